package io.agserver.core;

import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

import io.agserver.AGServer;
import io.agserver.AGUpgradeRequest;
import io.agserver.ops.ConnectionLimits;
import io.agserver.ops.ConnectionSlot;
import io.agserver.transport.AGTransport;

/**
 * Where a transport hands its connections to the server: the upgrade request's HANDSHAKE_WS
 * middleware, then a socket for each accepted WebSocket. The server produces it as a CDI bean
 * (and gives it to embedders), so that it is no part of {@link AGServer}'s public API.
 */
public interface Connections {

  AGServer server();

  /**
   * Runs HANDSHAKE_WS for an upgrade request: completes when allowed, fails with the error to
   * refuse it with (401).
   */
  CompletionStage<Object> verifyHandshake(AGUpgradeRequest request);

  /**
   * A WebSocket was accepted: its socket starts pending, and 'handshake' is emitted. Once the
   * server is closed the connection is closed at once (1001) and the socket returned is closed.
   */
  Connection accept(AGTransport transport, AGUpgradeRequest request);

  /**
   * As {@link #accept(AGTransport, AGUpgradeRequest)}, for a connection whose upgrade took
   * {@code slot} under the connection limits (null: none): the socket claims it, and releases it
   * when it closes. When the slot was given up meanwhile the socket takes a new one, and is
   * closed at once (1013) if the limits have no room left.
   */
  Connection accept(AGTransport transport, AGUpgradeRequest request, ConnectionSlot slot);

  /** {@code socketcluster.maxConnections...}: null when no connection limit is set. */
  ConnectionLimits connectionLimits();

  /** The server's timer and workers, for the web layer's background jobs (the admin page's samples). */
  AGScheduler scheduler();

  /**
   * Whether the upgrade request is one of the server's own warm-up connections (see
   * {@link WarmUpGate}): the transport then skips its own checks of the request (origins).
   */
  default boolean isWarmUp(AGUpgradeRequest request) {
    return false;
  }

  /**
   * The transport serves the server now (its endpoint is registered): {@code senders} reports its
   * sender threads to the liveness check.
   */
  default void transportStarted(Supplier<SenderStatus> senders) {}
}
