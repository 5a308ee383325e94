package io.agserver.ops;

import java.util.function.LongSupplier;
import java.util.logging.Logger;

import io.agserver.protocol.AGError;

/**
 * The server's warning events in the runtime's log: each at FINE on the logger
 * {@code io.agserver.ops.WarningLog}, and counted by error name in a WARNING at most once a
 * minute (see {@link LogSummary}). Warnings come from clients (bad input, slow readers cut off,
 * abnormal closes) and from the broker (Redis lost, publishes that failed): there can be one per
 * message, so none is written at INFO or above on its own. Rate-limit refusals are left to
 * {@link Refusals}, which sums them up with the other limits.
 */
public final class WarningLog {

  private static final Logger LOG = Logger.getLogger(WarningLog.class.getName());

  /** A warning's message may carry client input (a channel name, an event): only its start is kept. */
  static final int DETAIL_LIMIT = 200;

  private final LogSummary summary;

  /** {@code clock}: the server's time in milliseconds. */
  public WarningLog(LongSupplier clock) {
    this.summary = new LogSummary(LOG, "warnings", clock);
  }

  public void record(Throwable warning) {
    String name = warning instanceof AGError error ? error.name() : warning.getClass().getSimpleName();
    if ("RateLimitError".equals(name)) {
      return;
    }
    // No line breaks from a client's text in the log: one warning, one line.
    String message = String.valueOf(warning.getMessage()).replace('\r', ' ').replace('\n', ' ');
    if (message.length() > DETAIL_LIMIT) {
      message = message.substring(0, DETAIL_LIMIT) + "...";
    }
    summary.record(name, message);
  }

  /** The timer sweep's turn (see {@link LogSummary#summarize}). */
  public void summarize() {
    summary.summarize();
  }
}
