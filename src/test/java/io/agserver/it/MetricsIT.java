package io.agserver.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * The server's figures in Prometheus text at {@code /metrics} on the WebSocket's own port (Open
 * Liberty's mpMetrics-5.1 feature): real sockets open, call, publish and close, and the scraped
 * counts move by at least what they did (other tests' sockets may add to them, never take away).
 * Counters reach the registry within a second ({@code ops.MicroProfileMetrics}), so the second
 * scrape is retried until they have.
 */
class MetricsIT {

  /** {@code http://host:port/metrics} of the server under test. */
  static URI metricsUrl() {
    URI ws = URI.create(RawWebSocket.url());
    return URI.create("http://" + ws.getHost() + ":" + ws.getPort() + "/metrics");
  }

  /** A socket past its #handshake that answers the server's pings (pingTimeout is 3 s here). */
  private static RawWebSocket client() throws Exception {
    RawWebSocket ws = RawWebSocket.open().answerPings();
    ws.handshake();
    return ws;
  }

  static double delta(Prometheus after, Prometheus before, String name, String... labels) {
    return after.value(name, labels) - before.value(name, labels);
  }

  @Test
  void theServersFiguresAreScrapedInPrometheusText() throws Exception {
    Prometheus before = Prometheus.scrape(metricsUrl());
    assertTrue(before.contentType().startsWith("text/plain"), before.contentType());
    assertEquals("counter", before.types().get("agserver_connections_accepted_total"));
    assertEquals("counter", before.types().get("agserver_messages_received_total"));
    assertEquals("gauge", before.types().get("agserver_connections"));
    assertEquals("gauge", before.types().get("agserver_outbound_waiting_characters"));
    assertEquals("histogram", before.types().get("agserver_rpc_duration_seconds"));
    assertTrue(before.has("agserver_rpc_duration_seconds_bucket", "le", "0.005"), "the configured buckets");
    assertTrue(before.has("agserver_slow_consumers_total", "reason", "outbound_buffer"), before.toString());

    String channel = "metrics-it-" + System.nanoTime();
    try (RawWebSocket a = client();
        RawWebSocket b = client();
        RawWebSocket pending = RawWebSocket.open()) {
      for (int i = 0; i < 5; i++) {
        assertEquals("déjà " + i, a.call("echo", "déjà " + i));
      }
      assertNotNull(a.invoke("fail", 1, 30_000).get("error"));
      a.call("#subscribe", Map.of("channel", channel));
      b.call("#subscribe", Map.of("channel", channel));
      // The publisher's own delivery may come before the publish's answer, which the call reads
      // past; the other subscriber's is awaited.
      a.call("#publish", Map.of("channel", channel, "data", "hello"));
      b.awaitEvent("#publish", 10_000);

      Prometheus open = Prometheus.scrape(metricsUrl());
      assertTrue(open.value("agserver_connections") >= 2, open.toString());
      assertTrue(open.value("agserver_clients") >= 2, open.toString());
      assertTrue(open.value("agserver_subscriptions") >= 2, open.toString());
      assertTrue(open.value("agserver_channels") >= 1, open.toString());

      a.call("disconnectMe", null); // the server closes it with 4321
      assertEquals(4321, a.awaitClose(10_000).code());
      b.sendClose(1000, "done");
      b.awaitClose(10_000);
      // No #handshake within the handshakeTimeout (2 s on the test application): 4005.
      assertEquals(4005, pending.awaitClose(30_000).code());
    }

    await("the counts of what the sockets did").atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(250))
        .untilAsserted(() -> {
          Prometheus after = Prometheus.scrape(metricsUrl());
          String seen = after.toString();
          assertTrue(delta(after, before, "agserver_connections_accepted_total") >= 3, seen);
          assertTrue(delta(after, before, "agserver_handshakes_total") >= 2, seen);
          assertTrue(delta(after, before, "agserver_rpcs_total") >= 7, seen);
          assertTrue(delta(after, before, "agserver_rpc_errors_total") >= 1, seen);
          assertTrue(delta(after, before, "agserver_rpc_duration_seconds_count") >= 7, seen);
          assertEquals(after.value("agserver_rpc_duration_seconds_count"),
              after.value("agserver_rpc_duration_seconds_bucket", "le", "+Inf"), seen);
          assertTrue(delta(after, before, "agserver_rpc_duration_seconds_sum") > 0, seen);
          assertTrue(delta(after, before, "agserver_publishes_total") >= 1, seen);
          assertTrue(delta(after, before, "agserver_deliveries_total") >= 2, seen);
          // a: handshake, 5 echo, fail, subscribe, publish, disconnectMe; b: handshake, subscribe.
          double received = delta(after, before, "agserver_messages_received_total");
          assertTrue(received >= 12, seen);
          // Every packet sent is at least {"event":"#handshake","cid":1} long, 30 bytes.
          assertTrue(delta(after, before, "agserver_received_bytes_total") >= 30 * 12, seen);
          assertTrue(delta(after, before, "agserver_messages_sent_total") >= 12, seen);
          assertTrue(delta(after, before, "agserver_sent_bytes_total") >= 12 * 8, seen);
          assertTrue(delta(after, before, "agserver_connections_closed_total", "code", "4321") >= 1, seen);
          assertTrue(delta(after, before, "agserver_connections_closed_total", "code", "1000") >= 1, seen);
          assertTrue(delta(after, before, "agserver_connections_closed_total", "code", "4005") >= 1, seen);
        });
  }
}
