package io.agserver.it;

import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.core.ConditionTimeoutException;

/** The server-wide socket counts of the conformance app's {@code state} procedure. */
record Counts(long clients, long pending) {

  /** The counts now, as seen through {@code ws} (an open socket, counted in {@code clients}). */
  static Counts of(RawWebSocket ws) throws Exception {
    Map<?, ?> state = (Map<?, ?>) ws.call("state", null);
    return new Counts(((Number) state.get("clientsCount")).longValue(),
        ((Number) state.get("pendingClientsCount")).longValue());
  }

  /**
   * The counts once sockets of earlier tests are gone: the same on two polls 200 ms apart (the
   * server drops a socket as soon as it sees its close, so this settles within a few polls). After
   * 10 s of change, the last counts seen.
   */
  static Counts settled(RawWebSocket ws) throws Exception {
    AtomicReference<Counts> last = new AtomicReference<>(of(ws));
    try {
      // In this thread: the calls read ws's frames, which the test reads too once this returns.
      return await("the socket counts to settle").atMost(Duration.ofSeconds(10))
          .pollInSameThread().pollDelay(Duration.ofMillis(200)).pollInterval(Duration.ofMillis(200))
          .until(() -> {
            Counts now = of(ws);
            return now.equals(last.getAndSet(now)) ? now : null;
          }, now -> now != null);
    } catch (ConditionTimeoutException stillChanging) {
      return last.get();
    }
  }

  /** Polls until the counts are {@code expected}; fails with the last counts after the timeout. */
  static void awaitBack(RawWebSocket ws, Counts expected, long timeoutMillis) {
    await("the socket counts back to " + expected).atMost(Duration.ofMillis(timeoutMillis))
        .pollInSameThread().pollInterval(Duration.ofMillis(100))
        .until(() -> of(ws), equalTo(expected));
  }
}
