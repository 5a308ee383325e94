package io.agserver.ops;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.eclipse.microprofile.health.HealthCheckResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.agserver.AGServer;
import io.agserver.AGServerSocket;
import io.agserver.AGUpgradeRequest;
import io.agserver.TestAccess;
import io.agserver.config.AGServerOptions;
import io.agserver.core.SenderStatus;
import io.agserver.core.ServerStatus;
import io.agserver.transport.AGTransport;
import io.agserver.TestClock;

/** The rules of the health checks, on a server outside a container (README, "Health probes"). */
class ServerHealthTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private final TestClock clock = new TestClock();
  private AGServer server;

  @BeforeAll
  static void responses() {
    PlainResponses.install();
  }

  @AfterEach
  void close() {
    if (server != null) {
      server.close();
    }
  }

  private static AGServerOptions options(Map<String, String> shortKeys) {
    return AGServerOptions.from(key -> Optional.ofNullable(shortKeys.get(key.substring(AGServerOptions.PREFIX.length()))));
  }

  private static Map<String, Object> data(HealthCheckResponse response) {
    return response.getData().orElseThrow();
  }

  private static boolean up(HealthCheckResponse response) {
    return response.getStatus() == HealthCheckResponse.Status.UP;
  }

  /** A transport whose pings block the caller (the sweep) until released. */
  private static final class StuckPings implements AGTransport {
    final CountDownLatch pinging = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public void sendText(String text, Consumer<Throwable> done) {
      if (text.isEmpty()) {
        pinging.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      done.accept(null);
    }

    @Override
    public void sendBinary(ByteBuffer data, Consumer<Throwable> done) {
      done.accept(null);
    }

    @Override
    public void close(int code, String reason) {}

    @Override
    public void terminate() {}
  }

  @Test
  void theTimerCheckIsDownWhileTheSweepIsStuckAndUpOnceItRunsAgain() throws Exception {
    server = new AGServer(options(Map.of("pingInterval", "1000", "pingTimeout", "600000")), null, null, null, null,
        clock);
    ServerHealth health = new ServerHealth(TestAccess.status(server), () -> new WarmUp.State(WarmUp.Phase.OFF, null, 0));
    assertTrue(up(health.timer()), data(health.timer()).toString());

    StuckPings transport = new StuckPings();
    AGServerSocket socket = TestAccess.accept(server, transport, new AGUpgradeRequest(
        URI.create("ws://localhost/socketcluster/"), Map.of(), Map.of(), "127.0.0.1", 5555, false));
    TestAccess.receive(socket, "{\"event\":\"#handshake\",\"cid\":1}");
    await().atMost(WAIT).until(() -> socket.state() == AGServerSocket.OPEN);
    // A ping is due: the sweep writes it and stays in that write.
    clock.advance(1_100);
    assertTrue(transport.pinging.await(WAIT.toSeconds(), TimeUnit.SECONDS), "no ping");
    clock.advance(ServerHealth.SWEEP_STALL_MILLIS + 1);
    HealthCheckResponse stuck = health.timer();
    assertEquals("agserver-timer", stuck.getName());
    assertEquals(HealthCheckResponse.Status.DOWN, stuck.getStatus(), data(stuck).toString());
    assertTrue(((Number) data(stuck).get("lastSweepMsAgo")).longValue() > ServerHealth.SWEEP_STALL_MILLIS);

    transport.release.countDown();
    await().atMost(WAIT).until(() -> up(health.timer()));
  }

  @Test
  void theSendersCheckIsDownOnceSendsWaitedTwiceTheSendTimeoutWithNoWriteFinishing() {
    server = new AGServer(options(Map.of("sendTimeout", "1000")), null, null, null);
    ServerStatus real = TestAccess.status(server);
    AtomicReference<SenderStatus> senders = new AtomicReference<>();
    ServerHealth health = new ServerHealth(new ForwardingStatus(real) {
      @Override
      public Optional<SenderStatus> senders() {
        return Optional.ofNullable(senders.get());
      }
    }, () -> new WarmUp.State(WarmUp.Phase.OFF, null, 0));

    assertTrue(up(health.senders()));
    assertEquals("not started", data(health.senders()).get("transport"));
    senders.set(new SenderStatus(4, 4, 10, 2_000));
    assertTrue(up(health.senders()), data(health.senders()).toString());
    senders.set(new SenderStatus(4, 4, 10, 2_001));
    HealthCheckResponse stuck = health.senders();
    assertEquals(HealthCheckResponse.Status.DOWN, stuck.getStatus());
    assertEquals(Map.of("threads", 4L, "writing", 4L, "queued", 10L, "stalledMs", 2_001L, "waitingForWindow", 0L,
        "limitMs", 2_000L), data(stuck));
  }

  @Test
  void readinessWaitsForTheEndpointAndTheWarmUpAndStartupForTheEndpoint() {
    server = new AGServer(options(Map.of()), null, null, null);
    AtomicReference<WarmUp.State> warmUp = new AtomicReference<>(new WarmUp.State(WarmUp.Phase.RUNNING, "ws://x", 12));
    ServerHealth health = new ServerHealth(TestAccess.status(server), warmUp::get);
    await().atMost(WAIT).until(server::isReady);

    HealthCheckResponse notDeployed = health.readiness();
    assertEquals(HealthCheckResponse.Status.DOWN, notDeployed.getStatus());
    assertEquals(false, data(notDeployed).get("deployed"));
    assertEquals(HealthCheckResponse.Status.DOWN, health.startup().getStatus());

    TestAccess.connections(server).transportStarted(() -> new SenderStatus(0, 0, 0, 0));
    assertTrue(up(health.startup()));
    HealthCheckResponse warming = health.readiness();
    assertEquals(HealthCheckResponse.Status.DOWN, warming.getStatus());
    assertEquals("running", data(warming).get("warmUp"));
    assertEquals(12L, data(warming).get("warmUpHandshakes"));

    warmUp.set(new WarmUp.State(WarmUp.Phase.DONE, "1 handshake", 1));
    HealthCheckResponse ready = health.readiness();
    assertTrue(up(ready), data(ready).toString());
    assertEquals("agserver", ready.getName());
    assertEquals(Map.of("deployed", true, "ready", true, "brokerEngine", "memory", "brokerConnected", true,
        "warmUp", "done", "warmUpHandshakes", 1L, "clients", 0L, "pendingClients", 0L), data(ready));

    warmUp.set(new WarmUp.State(WarmUp.Phase.SKIPPED, "no port", 0));
    assertTrue(up(health.readiness()));
    assertEquals("skipped: no port", data(health.readiness()).get("warmUp"));

    // A server that closes (or drains) is not ready.
    server.close();
    assertEquals(HealthCheckResponse.Status.DOWN, health.readiness().getStatus());
  }

  /** A status that forwards everything; tests override what they set themselves. */
  static class ForwardingStatus implements ServerStatus {
    private final ServerStatus inner;

    ForwardingStatus(ServerStatus inner) {
      this.inner = inner;
    }

    @Override
    public AGServer server() {
      return inner.server();
    }

    @Override
    public long now() {
      return inner.now();
    }

    @Override
    public long lastSweepAt() {
      return inner.lastSweepAt();
    }

    @Override
    public long sweepPeriodMillis() {
      return inner.sweepPeriodMillis();
    }

    @Override
    public Optional<SenderStatus> senders() {
      return inner.senders();
    }

    @Override
    public io.agserver.core.WarmUpGate warmUpGate() {
      return inner.warmUpGate();
    }

    @Override
    public int warmUpSocketsCount() {
      return inner.warmUpSocketsCount();
    }

    @Override
    public void closeWarmUp() {
      inner.closeWarmUp();
    }

    @Override
    public io.agserver.core.AGScheduler scheduler() {
      return inner.scheduler();
    }
  }
}
