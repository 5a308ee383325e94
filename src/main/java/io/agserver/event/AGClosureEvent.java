package io.agserver.event;

import io.agserver.AGServerSocket;

/** A socket closed at any stage (after either a disconnection or a connection abort). */
public record AGClosureEvent(AGServerSocket socket, int code, String reason) {}
