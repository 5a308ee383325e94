package io.agserver.event;

import java.util.Map;

import io.agserver.AGServerSocket;

/** A socket's authState changed; {@code authToken} is null when it became unauthenticated. */
public record AGAuthenticationStateChangeEvent(
    AGServerSocket socket, AGServerSocket.AuthState oldAuthState, AGServerSocket.AuthState newAuthState, Map<String, Object> authToken) {}
