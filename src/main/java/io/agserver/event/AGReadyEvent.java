package io.agserver.event;

/** The server accepts connections. */
public record AGReadyEvent() {}
