package io.agserver.ops;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Counts events of one kind by what they were and writes them as one WARNING at most once a
 * {@link #INTERVAL}: the first event is told at once, the next ones in the summary a minute later
 * at the earliest, so that a storm of them (a thousand clients cut off, a flood of refused
 * messages) costs one log line a minute instead of filling the log. Each event itself goes to the
 * same logger at FINE, for the operator who raises it. Any thread may record; the server's timer
 * sweep calls {@link #summarize} so that the end of a storm is told without waiting for another
 * event. Keys are a bounded set chosen by the caller (limits, error names), never client input.
 */
public final class LogSummary {

  /** At most one WARNING in this many milliseconds. */
  public static final long INTERVAL = 60_000;

  private final Logger log;
  private final String title;
  private final LongSupplier clock;
  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
  private final Map<String, String> lastDetail = new ConcurrentHashMap<>();
  private final LongAdder pending = new LongAdder();
  /** The server's time before which no WARNING is written; taken by the caller that writes one. */
  private final AtomicLong quietUntil = new AtomicLong(Long.MIN_VALUE);
  private volatile long lastWarning = Long.MIN_VALUE;

  /**
   * @param title what the events are, as the summary starts: "limits reached"
   * @param clock the server's time in milliseconds
   */
  public LogSummary(Logger log, String title, LongSupplier clock) {
    this.log = log;
    this.title = title;
    this.clock = clock;
  }

  /** One event under {@code key}; {@code detail} (may be null) is logged at FINE and kept as the key's latest. */
  public void record(String key, String detail) {
    counts.computeIfAbsent(key, k -> new LongAdder()).increment();
    if (detail != null) {
      lastDetail.put(key, detail);
      if (log.isLoggable(Level.FINE)) {
        log.fine("agserver: " + key + ": " + detail);
      }
    }
    pending.increment();
    maybeWarn();
  }

  /** The timer sweep's turn: writes what was counted once the quiet interval is over. */
  public void summarize() {
    if (pending.sum() > 0) {
      maybeWarn();
    }
  }

  private void maybeWarn() {
    long now = clock.getAsLong();
    long until = quietUntil.get();
    if (now < until || !quietUntil.compareAndSet(until, now + INTERVAL)) {
      return;
    }
    long since = lastWarning;
    lastWarning = now;
    pending.reset();
    Map<String, Long> taken = new TreeMap<>();
    counts.forEach((key, count) -> {
      long n = count.sumThenReset();
      if (n > 0) {
        taken.put(key, n);
      }
    });
    if (taken.isEmpty() || !log.isLoggable(Level.WARNING)) {
      return;
    }
    StringBuilder text = new StringBuilder("agserver: ").append(title);
    if (since != Long.MIN_VALUE) {
      text.append(" in the last ").append(Math.max(1, (now - since) / 1000)).append(" s");
    }
    text.append(':');
    taken.forEach((key, n) -> {
      text.append(' ').append(key).append(": ").append(n);
      String detail = lastDetail.remove(key);
      if (detail != null) {
        text.append(" (latest: ").append(detail).append(')');
      }
      text.append(';');
    });
    text.setLength(text.length() - 1);
    text.append(". Each is logged at FINE on ").append(log.getName())
        .append("; the next summary comes a minute from now at the earliest.");
    log.warning(text.toString());
  }
}
