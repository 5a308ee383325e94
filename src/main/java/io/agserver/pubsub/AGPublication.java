package io.agserver.pubsub;

/**
 * A publication as a server-side channel sees it: its data and, on a history channel, its
 * position (null on a channel without history).
 */
public record AGPublication(String channel, Object data, StreamPosition position) {}
