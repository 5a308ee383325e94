package io.agserver.endpoint;

import jakarta.websocket.HandshakeResponse;
import jakarta.websocket.server.HandshakeRequest;
import jakarta.websocket.server.ServerEndpointConfig;

import io.agserver.AGServer;

/** Creates one {@link AGEndpoint} per connection and records its upgrade request. */
final class AGEndpointConfigurator extends ServerEndpointConfig.Configurator {

  private final AGServer server;
  /** The threads writing to and closing this server's sessions. */
  private final TransportThreads threads;
  AGEndpointConfigurator(AGServer server, TransportThreads threads) {
    this.server = server;
    this.threads = threads;
  }

  @Override
  public void modifyHandshake(ServerEndpointConfig config, HandshakeRequest request, HandshakeResponse response) {
    // Jakarta WebSocket 2.1 hands each connection its own copy of the user properties.
    config.getUserProperties().put(AGEndpoint.REQUEST_PROPERTY,
        UpgradeRequests.fromHandshake(request, UpgradeRequestFilter.current()));
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> T getEndpointInstance(Class<T> endpointClass) {
    return (T) new AGEndpoint(server, threads);
  }
}
