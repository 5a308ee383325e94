package io.agserver.event;

import io.agserver.AGServerSocket;

/** A socket closed before completing its handshake. */
public record AGConnectionAbortEvent(AGServerSocket socket, int code, String reason) {}
