package io.agserver.middleware;

/**
 * The inbound line: {@code TRANSMIT}, {@code INVOKE}, {@code SUBSCRIBE}, {@code PUBLISH_IN} and
 * {@code AUTHENTICATE}. A blocked RPC is answered with the error; a blocked transmit is dropped.
 */
public interface InboundMiddleware extends AGMiddleware {}
