package io.agserver.event;

/** A fatal server error. */
public record AGErrorEvent(Throwable error) {}
