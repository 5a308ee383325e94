package io.agserver.event;

import io.agserver.AGServerSocket;
import io.agserver.protocol.AGError;

/** A socket presented an invalid or expired token. */
public record AGBadSocketAuthTokenEvent(AGServerSocket socket, AGError authError, String signedAuthToken) {}
