package io.agserver.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A client that does not read its socket cannot grow the server without bound: once more than
 * {@code socketcluster.outboundBufferLimit} characters (default 64 MiB) wait for it, the server
 * drops them and closes the socket with 1008. (The original has no such limit: ws buffers without
 * bound. This is agserver's rule, DESIGN.md "Back-pressure is visible and bounded".)
 *
 * <p>The client asks for about 100 MiB of echo answers while not reading; the server keeps
 * reading it and answering other sockets meanwhile, never blocking a thread on the stuck
 * connection. When the client reads again it gets what was already on its way, then the close.
 */
class OutboundLimitIT {

  private static final int PAYLOAD = 1_000_000;
  private static final int REQUESTS = 100;

  @Test
  void clientThatDoesNotReadIsClosedWith1008() throws Exception {
    ExecutorService writer = Executors.newSingleThreadExecutor();
    RawWebSocket closeLater = null;
    // Before the sockets: a first scrape may take a while, and a socket that sends nothing for
    // the pingTimeout (3 s here) is closed.
    Prometheus metricsBefore = Prometheus.scrape(MetricsIT.metricsUrl());
    try (RawWebSocket good = RawWebSocket.connect()) {
      Counts before = Counts.settled(good);
      RawWebSocket slow = RawWebSocket.openWithReceiveBuffer(16 * 1024);
      closeLater = slow;
      slow.handshake();
      slow.stopReading();
      String data = "z".repeat(PAYLOAD);
      // On another thread: should the server stop reading this socket, the writes would block.
      Future<?> flood = writer.submit(() -> {
        for (int i = 0; i < REQUESTS; i++) {
          slow.send("echo", data);
        }
        return null;
      });

      // Another socket is answered, in order, while the flood goes on (the latencies are reported,
      // not judged: a loaded machine decides them; a server blocked on the slow socket would not
      // answer at all, as that socket never reads again before the end).
      List<Long> latencies = new ArrayList<>();
      do {
        long start = System.nanoTime();
        assertEquals(latencies.size(), ((Number) good.call("echo", latencies.size())).intValue());
        latencies.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
      } while (!flood.isDone());
      flood.get(); // the server read all 100 MB: it did not stop reading the slow socket
      List<Long> sorted = latencies.stream().sorted().toList();
      System.out.println("OutboundLimitIT: " + sorted.size() + " echoes during the flood, median "
          + sorted.get(sorted.size() / 2) + " ms, max " + sorted.get(sorted.size() - 1) + " ms");

      // The slow socket is gone from the server's clients as soon as it overflowed.
      Counts.awaitBack(good, before, 10_000);
      // ... and counted as a slow consumer cut off, closed with 1008 (/metrics: MetricsIT).
      await("the cut-off in /metrics").atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(250))
          .untilAsserted(() -> {
            Prometheus after = Prometheus.scrape(MetricsIT.metricsUrl());
            assertTrue(MetricsIT.delta(after, metricsBefore, "agserver_slow_consumers_total", "reason",
                "outbound_buffer") >= 1, after.toString());
            assertTrue(MetricsIT.delta(after, metricsBefore, "agserver_connections_closed_total", "code", "1008") >= 1,
                after.toString());
          });

      // The last requests of the flood may still wait in the server's receive buffer: a TCP close
      // with unread input is a reset, which can discard the close frame on its way to us. Wait
      // until the server has read them all (it does not stop reading a socket it is closing), as
      // the kernel's TCP queues show it.
      assumeTrue(RawWebSocket.tcpQueuesVisible(),
          "the rest needs the kernel's TCP queues (/proc/net/tcp, Linux) to know when the server has read everything");
      await("the server to read all the slow socket sent").atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(20)).until(slow::unreadByServer, unread -> unread == 0);
      slow.resumeReading();
      RawWebSocket.Frame close = slow.awaitClose(10_000);
      assertEquals(1008, close.code(), "close: " + close);
      long answers = slow.seen().stream().filter(f -> f.isText() && !f.isPing()).count();
      assertTrue(answers < REQUESTS, "the server dropped answers instead of queueing them all: " + answers);
      assertEquals("still fine", good.call("echo", "still fine"));
    } finally {
      writer.shutdownNow();
      if (closeLater != null) {
        closeLater.close();
      }
    }
  }
}
