package io.agserver.ops;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Where every refusal of a limit is told: each one at FINE on the logger {@code io.agserver.ops.Refusals},
 * and a WARNING at most once a minute that counts the refusals since the previous one, so that a
 * flood cannot flood the log. A counter of refusals (metrics) belongs in these methods: every
 * refused upgrade, refused message and socket closed for flooding passes through exactly one of them.
 * Called on the thread that refused (a request thread, a socket's inbound queue); never blocks.
 */
public final class Refusals {

  private static final Logger LOG = Logger.getLogger(Refusals.class.getName());

  /** At most one WARNING in this many milliseconds. */
  static final long WARNING_INTERVAL = 60_000;

  private final LongSupplier clock;
  private final LongAdder instanceFull = new LongAdder();
  private final LongAdder addressFull = new LongAdder();
  private final LongAdder messages = new LongAdder();
  private final LongAdder floodCloses = new LongAdder();
  /** The server's time before which no WARNING is written; taken by the refusal that writes one. */
  private final AtomicLong quietUntil = new AtomicLong(Long.MIN_VALUE);
  private volatile long lastWarning = Long.MIN_VALUE;

  private final ServerFigures figures;

  /** {@code clock}: the server's time in milliseconds. */
  public Refusals(LongSupplier clock) {
    this(clock, null);
  }

  /** As {@link #Refusals(LongSupplier)}, counting refused messages in {@code figures} (null: none). */
  public Refusals(LongSupplier clock, ServerFigures figures) {
    this.clock = clock;
    this.figures = figures;
  }

  /** An upgrade refused with 503 or 429 (or a socket refused with 1013 for the same reason). */
  public void connectionRefused(ConnectionLimits.Refusal refusal, String address) {
    (refusal == ConnectionLimits.Refusal.INSTANCE_FULL ? instanceFull : addressFull).increment();
    if (LOG.isLoggable(Level.FINE)) {
      LOG.fine("agserver: connection from " + address + " refused: " + refusal.option() + " reached ("
          + refusal.status() + ")");
    }
    maybeWarn();
  }

  /**
   * A message over its socket's rate limit: an RPC ({@code rpc}) answered with RateLimitError,
   * anything else dropped. {@code event} is the packet's event name, null for a message without one.
   */
  public void messageRefused(String socketId, String event, boolean rpc) {
    messages.increment();
    if (figures != null) {
      figures.rateLimited();
    }
    if (LOG.isLoggable(Level.FINE)) {
      LOG.fine("agserver: socket " + socketId + " over socketcluster.rateLimit: "
          + (rpc ? "RPC '" + event + "' answered with RateLimitError"
              : (event == null ? "a message" : "'" + event + "'") + " dropped"));
    }
    maybeWarn();
  }

  /** A socket closed (1008) because it kept sending over its rate limit. */
  public void closedForFlooding(String socketId, int refused) {
    floodCloses.increment();
    if (LOG.isLoggable(Level.FINE)) {
      LOG.fine("agserver: socket " + socketId + " closed (1008): " + refused
          + " messages over socketcluster.rateLimit since its bucket was last full");
    }
    maybeWarn();
  }

  /**
   * The timer sweep's turn: writes the summary of refusals counted since the last WARNING once the
   * quiet minute is over, so that the end of a flood is told without waiting for another refusal.
   */
  public void summarize() {
    if (instanceFull.sum() + addressFull.sum() + messages.sum() + floodCloses.sum() > 0) {
      maybeWarn();
    }
  }

  private void maybeWarn() {
    long now = clock.getAsLong();
    long until = quietUntil.get();
    if (now < until || !quietUntil.compareAndSet(until, now + WARNING_INTERVAL)) {
      return;
    }
    long since = lastWarning;
    lastWarning = now;
    long full = instanceFull.sumThenReset();
    long address = addressFull.sumThenReset();
    long refusedMessages = messages.sumThenReset();
    long closed = floodCloses.sumThenReset();
    if (full + address + refusedMessages + closed == 0 || !LOG.isLoggable(Level.WARNING)) {
      return;
    }
    StringBuilder text = new StringBuilder("agserver: limits reached");
    if (since != Long.MIN_VALUE) {
      text.append(" in the last ").append(Math.max(1, (now - since) / 1000)).append(" s");
    }
    text.append(':');
    count(text, "upgrades refused at socketcluster.maxConnections (503)", full);
    count(text, "upgrades refused at socketcluster.maxConnectionsPerAddress (429)", address);
    count(text, "messages refused by socketcluster.rateLimit", refusedMessages);
    count(text, "sockets closed for flooding (1008)", closed);
    text.setLength(text.length() - 1);
    text.append(". Each refusal is logged at FINE on ").append(Refusals.class.getName())
        .append("; the next summary comes a minute from now at the earliest.");
    LOG.warning(text.toString());
  }

  private static void count(StringBuilder text, String what, long count) {
    if (count > 0) {
      text.append(' ').append(what).append(": ").append(count).append(';');
    }
  }
}
