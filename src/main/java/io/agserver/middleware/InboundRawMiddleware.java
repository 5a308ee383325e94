package io.agserver.middleware;

/**
 * The inbound raw line: every message as it arrives ({@code MESSAGE}), before anything else, the
 * strict-handshake check included. Blocking drops the message; allowing with new data replaces it.
 */
public interface InboundRawMiddleware extends AGMiddleware {}
