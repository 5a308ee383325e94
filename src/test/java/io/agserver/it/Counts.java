package io.agserver.it;

import java.util.Map;

/** The server-wide socket counts of the conformance app's {@code state} procedure. */
record Counts(long clients, long pending) {

  /** The counts now, as seen through {@code ws} (an open socket, counted in {@code clients}). */
  static Counts of(RawWebSocket ws) throws Exception {
    Map<?, ?> state = (Map<?, ?>) ws.call("state", null);
    return new Counts(((Number) state.get("clientsCount")).longValue(),
        ((Number) state.get("pendingClientsCount")).longValue());
  }

  /**
   * The counts once sockets of earlier tests are gone: the same twice, 200 ms apart (the server
   * drops a socket as soon as it sees its close, so this settles within a few polls).
   */
  static Counts settled(RawWebSocket ws) throws Exception {
    Counts last = of(ws);
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < deadline) {
      Thread.sleep(200);
      Counts now = of(ws);
      if (now.equals(last)) {
        return now;
      }
      last = now;
    }
    return last;
  }

  /** Polls until the counts are {@code expected}; fails with the last counts after the timeout. */
  static void awaitBack(RawWebSocket ws, Counts expected, long timeoutMillis) throws Exception {
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
    Counts now = of(ws);
    while (!now.equals(expected)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("counts did not return to " + expected + " within " + timeoutMillis
            + " ms: " + now);
      }
      Thread.sleep(100);
      now = of(ws);
    }
  }
}
