package io.agserver.ops;

import java.util.Optional;
import java.util.function.Supplier;

import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

import io.agserver.AGServer;
import io.agserver.core.SenderStatus;
import io.agserver.core.ServerStatus;
import io.agserver.pubsub.AGSimpleBroker;
import io.agserver.redis.RedisBroker;

/**
 * The rules of agserver's health checks (README, "Health probes"), one response each, read from
 * what the server already keeps: nothing here costs more than a few field reads.
 *
 * <ul>
 * <li>{@code agserver-timer} (liveness): the timer sweep, which drives every socket's pings and
 *     timeouts, ran within the last {@link #SWEEP_STALL_MILLIS} ms.
 * <li>{@code agserver-senders} (liveness): sends do not wait with no write finishing for longer
 *     than twice {@code socketcluster.sendTimeout}. Each write past the send time limit is ended
 *     and more threads are started while writes stall, so a working server always makes progress
 *     within that; a stall means every sender is stuck in a write and no thread can be added.
 * <li>{@code agserver} (readiness): deployed, {@link AGServer#isReady()} (the broker engine's first
 *     connection; false again while the server drains), the broker engine connected now, the
 *     warm-up over.
 * <li>{@code agserver} (startup): the server is up and its WebSocket endpoint registered.
 * </ul>
 */
final class ServerHealth {

  /** The sweep runs every 5-100 ms: ten seconds without one is no pause of the JVM. */
  static final long SWEEP_STALL_MILLIS = 10_000;

  private final ServerStatus status;
  private final Supplier<WarmUp.State> warmUp;

  ServerHealth(ServerStatus status, Supplier<WarmUp.State> warmUp) {
    this.status = status;
    this.warmUp = warmUp;
  }

  HealthCheckResponse timer() {
    long ago = Math.max(0, status.now() - status.lastSweepAt());
    return HealthCheckResponse.named("agserver-timer")
        .status(ago <= SWEEP_STALL_MILLIS)
        .withData("lastSweepMsAgo", ago)
        .withData("sweepPeriodMs", status.sweepPeriodMillis())
        .withData("limitMs", SWEEP_STALL_MILLIS)
        .build();
  }

  HealthCheckResponse senders() {
    long limit = 2 * status.server().options().sendTimeout();
    HealthCheckResponseBuilder response = HealthCheckResponse.named("agserver-senders");
    Optional<SenderStatus> senders = status.senders();
    if (senders.isEmpty()) {
      return response.up().withData("transport", "not started").build();
    }
    SenderStatus s = senders.get();
    return response.status(s.stalledMillis() <= limit)
        .withData("threads", s.threads())
        .withData("writing", s.writing())
        .withData("queued", s.queued())
        .withData("stalledMs", s.stalledMillis())
        .withData("waitingForWindow", s.waitingForWindow())
        .withData("limitMs", limit)
        .build();
  }

  HealthCheckResponse readiness() {
    AGServer server = status.server();
    boolean deployed = status.senders().isPresent();
    boolean ready = server.isReady();
    boolean brokerConnected = server.broker().isConnected();
    WarmUp.State warm = warmUp.get();
    return HealthCheckResponse.named("agserver")
        .status(deployed && ready && brokerConnected && warm.over())
        .withData("deployed", deployed)
        .withData("ready", ready)
        .withData("brokerEngine", engineName(server))
        .withData("brokerConnected", brokerConnected)
        .withData("warmUp", warm.description())
        .withData("warmUpHandshakes", warm.handshakes())
        .withData("clients", server.clientsCount())
        .withData("pendingClients", server.pendingClientsCount())
        .build();
  }

  HealthCheckResponse startup() {
    boolean started = status.senders().isPresent();
    return HealthCheckResponse.named("agserver")
        .status(started)
        .withData("path", status.server().path())
        .build();
  }

  private static String engineName(AGServer server) {
    Object engine = server.broker();
    if (engine instanceof AGSimpleBroker) {
      return "memory";
    }
    if (engine instanceof RedisBroker) {
      return "redis";
    }
    return engine.getClass().getName();
  }
}
