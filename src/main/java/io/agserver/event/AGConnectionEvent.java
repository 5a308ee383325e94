package io.agserver.event;

import io.agserver.AGServerSocket;
import io.agserver.protocol.AGError;

/** A socket completed its {@code #handshake}; {@code authError} is null unless its token was refused. */
public record AGConnectionEvent(
    AGServerSocket socket, String id, long pingTimeout, boolean isAuthenticated, AGError authError) {}
