package io.agserver.pubsub;

/** One publication a history channel kept: its offset in the channel's epoch, and its data. */
public record Publication(long offset, Object data) {}
