package io.agserver.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The upgrade request as the socket sees it on the container: the peer's address (which Jakarta
 * WebSocket's HandshakeRequest does not carry; agserver takes it from a servlet filter) and the
 * query of each connection's own upgrade request, also when many handshakes run at once.
 *
 * <p>Uses the conformance app's {@code _remoteAddress} procedure (not in APP.md): {remoteAddress,
 * remotePort, uri, query}.
 */
class UpgradeRequestIT {

  private static Map<?, ?> peer(RawWebSocket ws) throws Exception {
    return (Map<?, ?>) ws.call("_remoteAddress", null);
  }

  @Test
  void remoteAddressAndPortAreThePeers() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect()) {
      Map<?, ?> peer = peer(ws);
      assertEquals("127.0.0.1", peer.get("remoteAddress"), "remoteAddress of " + peer);
      assertEquals((long) ws.localPort(), peer.get("remotePort"), "remotePort of " + peer);
    }
  }

  @Test
  void queryOfTheUpgradeRequest() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect("n=7&x=a%20b&x=c")) {
      Map<?, ?> peer = peer(ws);
      assertEquals(Map.of("n", List.of("7"), "x", List.of("a b", "c")), peer.get("query"), "query of " + peer);
      assertTrue(String.valueOf(peer.get("uri")).endsWith("/socketcluster/?n=7&x=a%20b&x=c"), "uri of " + peer);
    }
  }

  /** Handshakes racing each other: each socket sees its own query and its own peer port. */
  @Test
  void concurrentHandshakesEachGetTheirOwnRequest() throws Exception {
    int sockets = 48;
    ExecutorService pool = Executors.newFixedThreadPool(sockets);
    try {
      for (int round = 0; round < 3; round++) {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<String>> results = new ArrayList<>();
        for (int i = 0; i < sockets; i++) {
          int n = i;
          String tag = UUID.randomUUID().toString();
          Callable<String> check = () -> {
            start.await();
            try (RawWebSocket ws = RawWebSocket.connect("n=" + n + "&tag=" + tag)) {
              Map<?, ?> peer = peer(ws);
              Map<?, ?> query = (Map<?, ?>) peer.get("query");
              if (!List.of(String.valueOf(n)).equals(query.get("n")) || !List.of(tag).equals(query.get("tag"))) {
                return "socket " + n + " (" + tag + ") saw query " + query;
              }
              if (!Long.valueOf(ws.localPort()).equals(peer.get("remotePort"))) {
                return "socket " + n + " on port " + ws.localPort() + " saw remotePort " + peer.get("remotePort");
              }
              return null;
            }
          };
          results.add(pool.submit(check));
        }
        start.countDown();
        List<String> problems = new ArrayList<>();
        for (Future<String> result : results) {
          String problem = result.get(20, TimeUnit.SECONDS);
          if (problem != null) {
            problems.add(problem);
          }
        }
        assertEquals(List.of(), problems, "round " + round);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
