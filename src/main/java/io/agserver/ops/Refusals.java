package io.agserver.ops;

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

  private static final String INSTANCE_FULL = "upgrades refused at socketcluster.maxConnections (503)";
  private static final String ADDRESS_FULL = "upgrades refused at socketcluster.maxConnectionsPerAddress (429)";
  private static final String MESSAGES = "messages refused by socketcluster.rateLimit";
  private static final String FLOOD_CLOSES = "sockets closed for flooding (1008)";

  private final LogSummary summary;
  private final ServerFigures figures;

  /** {@code clock}: the server's time in milliseconds. */
  public Refusals(LongSupplier clock) {
    this(clock, null);
  }

  /** As {@link #Refusals(LongSupplier)}, counting refused messages in {@code figures} (null: none). */
  public Refusals(LongSupplier clock, ServerFigures figures) {
    this.summary = new LogSummary(LOG, "limits reached", clock);
    this.figures = figures;
  }

  /** An upgrade refused with 503 or 429 (or a socket refused with 1013 for the same reason). */
  public void connectionRefused(ConnectionLimits.Refusal refusal, String address) {
    summary.record(refusal == ConnectionLimits.Refusal.INSTANCE_FULL ? INSTANCE_FULL : ADDRESS_FULL, null);
    if (LOG.isLoggable(Level.FINE)) {
      LOG.fine("agserver: connection from " + address + " refused: " + refusal.option() + " reached ("
          + refusal.status() + ")");
    }
  }

  /**
   * A message over its socket's rate limit: an RPC ({@code rpc}) answered with RateLimitError,
   * anything else dropped. {@code event} is the packet's event name, null for a message without one.
   */
  public void messageRefused(String socketId, String event, boolean rpc) {
    summary.record(MESSAGES, null);
    if (figures != null) {
      figures.rateLimited();
    }
    if (LOG.isLoggable(Level.FINE)) {
      LOG.fine("agserver: socket " + socketId + " over socketcluster.rateLimit: "
          + (rpc ? "RPC '" + event + "' answered with RateLimitError"
              : (event == null ? "a message" : "'" + event + "'") + " dropped"));
    }
  }

  /** A socket closed (1008) because it kept sending over its rate limit. */
  public void closedForFlooding(String socketId, int refused) {
    summary.record(FLOOD_CLOSES, null);
    if (LOG.isLoggable(Level.FINE)) {
      LOG.fine("agserver: socket " + socketId + " closed (1008): " + refused
          + " messages over socketcluster.rateLimit since its bucket was last full");
    }
  }

  /**
   * The timer sweep's turn: writes the summary of refusals counted since the last WARNING once the
   * quiet minute is over, so that the end of a flood is told without waiting for another refusal.
   */
  public void summarize() {
    summary.summarize();
  }
}
