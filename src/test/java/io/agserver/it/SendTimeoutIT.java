package io.agserver.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * socketcluster.sendTimeout: a client that stops reading holds a sender thread no longer than the
 * limit (1 s on the test application's second server). The client asks for about 13 MB it never
 * reads; the write that its full TCP window blocks is abandoned, its send fails with a
 * TimeoutError, the socket is closed and the thread is free again, while another socket's calls
 * are answered throughout. Waits are generous bounds, not measured latencies.
 */
class SendTimeoutIT {

  private static final Duration BOUND = Duration.ofSeconds(30);

  @Test
  void aClientThatStopsReadingIsCutOffAndItsSenderReleased() throws Exception {
    try (RawWebSocket good = RawWebSocket.openWithReceiveBuffer(OriginIT.PATH, 0);
        RawWebSocket slow = RawWebSocket.openWithReceiveBuffer(OriginIT.PATH, 4096)) {
      good.answerPings().handshake();
      slow.handshake();
      Map<?, ?> before = state(good);
      int clientsBefore = number(before, "clients");
      int timeoutsBefore = number(before, "sendTimeouts");

      slow.stopReading();
      slow.send("flood", Map.of("count", 200, "size", 64 * 1024));

      int[] echoes = {0};
      await().atMost(BOUND).pollInterval(Duration.ofMillis(100)).until(() -> {
        // The other socket is served all along.
        assertEquals((long) echoes[0], ((Number) good.call("echo", echoes[0])).longValue());
        echoes[0]++;
        Map<?, ?> state = state(good);
        return number(state, "sendTimeouts") > timeoutsBefore
            && number(state, "clients") == clientsBefore - 1
            && number(state, "writesInProgress") == 0;
      });
      assertTrue(echoes[0] > 0);

      // The slow client reads again: what was on its way, then the end of the connection (a
      // close frame where the runtime could still write one, else EOF).
      slow.resumeReading();
      RawWebSocket.Frame end = slow.awaitClose(BOUND.toMillis());
      assertTrue(end.isEof() || end.code() == 1008, "the connection ended: " + end);
      long flooded = slow.seen().stream().filter(f -> f.isText() && f.text().contains("\"flood\"")).count();
      assertTrue(flooded < 200, "the server gave up on the rest: " + flooded + " delivered");
      assertEquals("still served", good.call("echo", "still served"));
    }
  }

  /**
   * Open Liberty: once one client's write is stuck, a second client that stops reading holds no
   * sender: its send waits for its window on the window watch, and the send time limit cuts it
   * off from there.
   */
  @Test
  void aSecondClientThatStopsReadingWaitsForItsWindowWithoutASender() throws Exception {
    try (RawWebSocket good = RawWebSocket.openWithReceiveBuffer(OriginIT.PATH, 0);
        RawWebSocket first = RawWebSocket.openWithReceiveBuffer(OriginIT.PATH, 4096);
        RawWebSocket second = RawWebSocket.openWithReceiveBuffer(OriginIT.PATH, 4096)) {
      good.answerPings().handshake();
      first.handshake();
      second.handshake();
      Map<?, ?> before = state(good);
      int timeoutsBefore = number(before, "sendTimeouts");
      long parkedBefore = ((Number) before.get("sendsParked")).longValue();

      first.stopReading();
      first.send("flood", Map.of("count", 200, "size", 64 * 1024));
      await().atMost(BOUND).until(() -> Boolean.TRUE.equals(state(good).get("writesStuckLately")));
      second.stopReading();
      second.send("flood", Map.of("count", 4000, "size", 1024));

      await().atMost(BOUND).pollInterval(Duration.ofMillis(100)).until(() -> {
        Map<?, ?> state = state(good);
        return number(state, "sendTimeouts") >= timeoutsBefore + 2 && number(state, "writesInProgress") == 0
            && number(state, "waitingForWindow") == 0;
      });
      assertTrue(((Number) state(good).get("sendsParked")).longValue() > parkedBefore,
          "the second client's send waited for its window on the watch");
      assertEquals("still served", good.call("echo", "still served"));
    }
  }

  private static Map<?, ?> state(RawWebSocket ws) throws Exception {
    return (Map<?, ?>) ws.call("transportState", null);
  }

  private static int number(Map<?, ?> state, String key) {
    return ((Number) state.get(key)).intValue();
  }
}
