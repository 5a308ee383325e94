package io.agserver.event;

/** A non-fatal error; every socket error is also a server warning. */
public record AGWarningEvent(Throwable warning) {}
