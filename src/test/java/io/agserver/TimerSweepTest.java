package io.agserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.agserver.event.AGDisconnectionEvent;
import io.agserver.protocol.AGError;
import io.agserver.protocol.CloseCodes;

/**
 * The timer sweep only checks deadlines and hands work off: application code that a timeout
 * triggers (a disconnection observer, an invoke's callbacks) runs on the server's workers, so a
 * slow one cannot hold back any other socket's pings. The clock is the test's.
 */
class TimerSweepTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private final TestClock clock = new TestClock();
  private final CountDownLatch observerEntered = new CountDownLatch(1);
  private final CountDownLatch releaseObserver = new CountDownLatch(1);
  private AGServer server;

  @AfterEach
  void close() {
    releaseObserver.countDown();
    if (server != null) {
      server.close();
    }
  }

  /** An observer of disconnections that takes as long as the test wants. */
  private void slowObserver(Object event) {
    if (event instanceof AGDisconnectionEvent) {
      observerEntered.countDown();
      try {
        releaseObserver.await(WAIT.toSeconds(), TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private AGServerSocket handshaken(FakeTransport transport) {
    AGServerSocket socket = server.accept(transport, TestServers.request());
    socket.receive("{\"event\":\"#handshake\",\"cid\":1}");
    return socket;
  }

  @Test
  void aSlowDisconnectionObserverDoesNotDelayOtherSocketsPings() throws Exception {
    server = new AGServer(TestServers.options(Map.of("pingInterval", "1000", "pingTimeout", "2000")),
        null, this::slowObserver, null, null, clock);
    long t0 = clock.millis();
    FakeTransport silentTransport = new FakeTransport();
    AGServerSocket silent = handshaken(silentTransport);
    FakeTransport aliveTransport = new FakeTransport();
    AGServerSocket alive = handshaken(aliveTransport);

    // The silent socket misses its pong timeout; the other one answers its pings.
    clock.set(t0 + 2100);
    alive.receive("");
    assertTrue(observerEntered.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the silent socket was not closed");
    Awaitility.await().atMost(WAIT).until(() -> aliveTransport.pings() >= 1);
    long pings = aliveTransport.pings();

    // While the observer of the first close still runs, the next ping is due and goes out.
    clock.set(t0 + 3200);
    alive.receive("");
    Awaitility.await().atMost(WAIT).until(() -> aliveTransport.pings() > pings);
    assertEquals(AGServerSocket.OPEN, alive.state());
    assertEquals(AGServerSocket.CLOSED, silent.state());
    releaseObserver.countDown();
    Awaitility.await().atMost(WAIT).until(() -> silentTransport.closeCode != null);
    assertEquals(CloseCodes.PONG_TIMEOUT, silentTransport.closeCode);
  }

  @Test
  void anInvokesAckTimeoutIsDecidedByTheClockAndNotRunOnTheTimer() throws Exception {
    server = new AGServer(TestServers.options(Map.of("ackTimeout", "500")), null, event -> {}, null, null, clock);
    AGServerSocket socket = handshaken(new FakeTransport());
    Thread[] ranOn = new Thread[1];
    var result = socket.invoke("slow", 1).whenComplete((ok, error) -> ranOn[0] = Thread.currentThread())
        .toCompletableFuture();
    assertTrue(!result.isDone(), "no time has passed");
    clock.set(clock.millis() + 600);
    Awaitility.await().atMost(WAIT).until(result::isDone);
    Throwable error = result.handle((ok, e) -> e instanceof java.util.concurrent.CompletionException ? e.getCause() : e)
        .join();
    assertTrue(error instanceof AGError ag && ag.name().equals("TimeoutError"), "error: " + error);
    assertTrue(!ranOn[0].getName().startsWith("agserver-timer"), "the callback ran on " + ranOn[0].getName());
  }
}
