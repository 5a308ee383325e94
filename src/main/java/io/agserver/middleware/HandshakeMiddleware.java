package io.agserver.middleware;

/**
 * The handshake line: {@code HANDSHAKE_WS} (the HTTP upgrade; blocking answers 401 before any
 * WebSocket exists) and {@code HANDSHAKE_SC} (the {@code #handshake}; blocking answers it with the
 * error and closes with the error's {@code statusCode} field, 4008 by default).
 */
public interface HandshakeMiddleware extends AGMiddleware {}
