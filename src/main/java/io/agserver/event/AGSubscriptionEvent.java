package io.agserver.event;

import java.util.Map;

import io.agserver.AGServerSocket;

/** A socket subscribed to a channel. */
public record AGSubscriptionEvent(AGServerSocket socket, String channel, Map<String, Object> subscriptionOptions) {}
