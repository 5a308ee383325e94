package io.agserver.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * Many clients closing at once while the server is pinging them all (a load balancer restart,
 * a network drop on the client side) leave a server that goes on answering: on Open Liberty a
 * client's close waits for the send in flight to its socket, and sends made through the
 * container's asynchronous remote could wait behind those very closes, locking up every
 * container thread.
 */
class MassCloseIT {

  private static final int SOCKETS = 1500;

  @Test
  void aServerPingingManySocketsSurvivesThemAllClosingAtOnce() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(32);
    List<RawWebSocket> sockets = new ArrayList<>();
    try (RawWebSocket watcher = RawWebSocket.connect().answerPings()) {
      Counts before = Counts.settled(watcher);
      List<Future<RawWebSocket>> opening = new ArrayList<>();
      for (int i = 0; i < SOCKETS; i++) {
        opening.add(pool.submit(() -> RawWebSocket.connect().answerPings()));
      }
      for (Future<RawWebSocket> socket : opening) {
        sockets.add(socket.get(60, TimeUnit.SECONDS));
      }
      // The conformance app pings every second: once each socket has answered a ping, the server
      // is pinging them all.
      await("every socket pinged").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
          .until(() -> sockets.stream().allMatch(socket -> socket.pingsAnswered() > 0));
      List<Future<?>> closing = new ArrayList<>();
      for (RawWebSocket socket : sockets) {
        closing.add(pool.submit(() -> {
          socket.sendClose(1000, "");
          return null;
        }));
      }
      for (Future<?> close : closing) {
        close.get(60, TimeUnit.SECONDS);
      }
      // A newcomer is still served (a locked-up server never answers it), and every closed socket
      // is gone from the counts.
      try (RawWebSocket newcomer = RawWebSocket.connect()) {
        assertEquals("hi", newcomer.call("echo", "hi"));
      }
      Counts.awaitBack(watcher, before, 30_000);
    } finally {
      sockets.forEach(RawWebSocket::close);
      pool.shutdownNow();
    }
  }
}
