package io.agserver.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
      // The conformance app pings every second: by now every socket is being pinged.
      Thread.sleep(2500);
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
      // A newcomer is served at once, and every closed socket is gone from the counts.
      long started = System.nanoTime();
      try (RawWebSocket newcomer = RawWebSocket.connect()) {
        assertEquals("hi", newcomer.call("echo", "hi"));
      }
      long millis = (System.nanoTime() - started) / 1_000_000;
      assertTrue(millis < 5000, "a new connection waited " + millis + " ms after the mass close");
      Counts.awaitBack(watcher, before, 30_000);
    } finally {
      sockets.forEach(RawWebSocket::close);
      pool.shutdownNow();
    }
  }
}
