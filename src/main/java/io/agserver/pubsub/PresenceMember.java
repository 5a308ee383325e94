package io.agserver.pubsub;

/**
 * One socket subscribed to a presence channel, on any instance: its socket {@code id} and
 * {@code user}, the claim of its auth token that {@code socketcluster.presence.userClaim} names
 * (null without a token or without that claim).
 */
public record PresenceMember(String id, Object user) {}
