package io.agserver.middleware;

/**
 * The outbound line: {@code PUBLISH_OUT}, once per receiving socket. Allowing with new data changes
 * what that socket receives; blocking skips that socket.
 */
public interface OutboundMiddleware extends AGMiddleware {}
