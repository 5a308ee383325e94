package io.agserver.event;

import java.util.Map;

import io.agserver.AGServerSocket;

/** A socket became authenticated with {@code authToken}. */
public record AGAuthenticationEvent(AGServerSocket socket, Map<String, Object> authToken) {}
