package io.agserver.event;

import io.agserver.AGServerSocket;

/** A socket unsubscribed from a channel, by request, kick-out or disconnection. */
public record AGUnsubscriptionEvent(AGServerSocket socket, String channel) {}
