package io.agserver.event;

import io.agserver.AGServerSocket;

/** A WebSocket was accepted; the SocketCluster handshake has not completed yet. */
public record AGHandshakeEvent(AGServerSocket socket) {}
