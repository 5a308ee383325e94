package io.agserver.event;

import java.util.Map;

import io.agserver.AGServerSocket;

/** A socket lost its auth token. */
public record AGDeauthenticationEvent(AGServerSocket socket, Map<String, Object> oldAuthToken) {}
