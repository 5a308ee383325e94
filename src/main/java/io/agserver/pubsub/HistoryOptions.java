package io.agserver.pubsub;

import java.time.Duration;

/**
 * How a channel keeps history: the latest {@code size} publications, for {@code ttl} after its
 * last publication (then the history, and its epoch, are gone).
 */
public record HistoryOptions(int size, Duration ttl) {

  public HistoryOptions {
    if (size < 1) {
      throw new IllegalArgumentException("history size " + size + " < 1");
    }
    if (ttl == null || ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("history ttl must be positive: " + ttl);
    }
  }
}
