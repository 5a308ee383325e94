package io.agserver.core;

import java.util.Optional;

import io.agserver.AGServer;

/**
 * What the health checks and the warm-up read of a server beyond its public API (its timer, its
 * transport's senders, its warm-up sockets), and the warm-up's way in. The server produces it as a CDI bean, as it does
 * {@link Connections}. Every method is cheap: a probe may call them every second.
 */
public interface ServerStatus {

  AGServer server();

  /** Milliseconds since the epoch by the server's clock (the one its timers use). */
  long now();

  /** When the timer sweep last ran, by {@link #now}'s clock; the server's start before its first run. */
  long lastSweepAt();

  /** How often the sweep runs, in milliseconds. */
  long sweepPeriodMillis();

  /** The transport's sender threads; empty until a transport has started (the endpoint is registered). */
  Optional<SenderStatus> senders();

  /** Where the warm-up's own connections are let in. */
  WarmUpGate warmUpGate();

  /** Warm-up sockets open now (never counted among the clients). */
  int warmUpSocketsCount();

  /** Ends a warm-up: the gate closes, and warm-up sockets still open are closed. */
  void closeWarmUp();

  /** Where the server's background work runs (the container's managed executor where there is one). */
  AGScheduler scheduler();
}
