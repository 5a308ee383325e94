package io.agserver.event;

import io.agserver.AGServerSocket;

/** A connected socket closed. */
public record AGDisconnectionEvent(AGServerSocket socket, int code, String reason) {}
