package io.agserver.transport;

import java.util.List;

import jakarta.websocket.Extension;
import jakarta.websocket.HandshakeResponse;
import jakarta.websocket.server.HandshakeRequest;
import jakarta.websocket.server.ServerEndpointConfig;

import io.agserver.core.Connections;

/**
 * Creates one {@link AGEndpoint} per connection, records its upgrade request and decides its
 * extensions: permessage-deflate where the option is on and the runtime can run it, else none.
 */
final class AGEndpointConfigurator extends ServerEndpointConfig.Configurator {

  private final Connections connections;
  /** The threads writing to and closing this server's sessions. */
  private final TransportThreads threads;
  /** Null when no extension is to be negotiated. */
  private final DeflateNegotiator deflate;

  AGEndpointConfigurator(Connections connections, TransportThreads threads, DeflateNegotiator deflate) {
    this.connections = connections;
    this.threads = threads;
    this.deflate = deflate;
  }

  @Override
  public void modifyHandshake(ServerEndpointConfig config, HandshakeRequest request, HandshakeResponse response) {
    // Jakarta WebSocket 2.1 hands each connection its own copy of the user properties.
    UpgradeRequestFilter.Peer peer = UpgradeRequestFilter.current();
    config.getUserProperties().put(AGEndpoint.REQUEST_PROPERTY, UpgradeRequests.fromHandshake(request, peer));
    if (peer != null && peer.slot() != null) {
      // The container accepts the upgrade: from here its connection's socket claims the slot.
      peer.slot().handOver();
      config.getUserProperties().put(AGEndpoint.SLOT_PROPERTY, peer.slot());
    }
  }

  /**
   * Never the container's default: with the option off nothing is negotiated (ws's behaviour),
   * and an extension the runtime cannot run is never named in the response.
   */
  @Override
  public List<Extension> getNegotiatedExtensions(List<Extension> installed, List<Extension> requested) {
    if (deflate == null || requested == null || requested.isEmpty()) {
      return List.of();
    }
    Extension accepted = deflate.negotiate(requested);
    return accepted == null ? List.of() : List.of(accepted);
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> T getEndpointInstance(Class<T> endpointClass) {
    return (T) new AGEndpoint(connections, threads);
  }
}
