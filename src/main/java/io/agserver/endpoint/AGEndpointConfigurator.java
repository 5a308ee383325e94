package io.agserver.endpoint;

import jakarta.websocket.HandshakeResponse;
import jakarta.websocket.server.HandshakeRequest;
import jakarta.websocket.server.ServerEndpointConfig;

import io.agserver.core.Connections;

/** Creates one {@link AGEndpoint} per connection and records its upgrade request. */
final class AGEndpointConfigurator extends ServerEndpointConfig.Configurator {

  private final Connections connections;
  /** The threads writing to this server's sessions; they end when idle, after an undeploy too. */
  private final Senders senders;

  AGEndpointConfigurator(Connections connections) {
    this.connections = connections;
    this.senders = new Senders(connections.server().options().senderThreads());
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
    return (T) new AGEndpoint(connections, senders);
  }
}
