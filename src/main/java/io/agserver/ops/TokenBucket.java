package io.agserver.ops;

/**
 * {@code socketcluster.rateLimit}: one socket's token bucket over its inbound messages. It holds
 * up to {@code burst} tokens and gains {@code messagesPerSecond} a second; each message takes one
 * at the time it arrived, and a message that finds none is refused.
 *
 * <p>Not thread-safe, and needs not be: only its socket's inbound queue uses it, one message at a
 * time, and the queue makes each message's writes visible to the next. Nothing is shared between
 * sockets and nothing is allocated per message.
 */
public final class TokenBucket {

  /** Tokens are counted in millionths, so that the refill is exact integer arithmetic. */
  private static final long UNIT = 1_000_000;

  /** Millionths of a token gained per millisecond: the rate to a thousandth of a message a second. */
  private final long perMilli;
  private final long capacity;
  private long tokens;
  private long last;
  private int refusedSinceFull;

  /** A full bucket at {@code now} (milliseconds of the server's clock). */
  public TokenBucket(double messagesPerSecond, int burst, long now) {
    this.perMilli = Math.max(1, Math.round(messagesPerSecond * 1000));
    this.capacity = burst * UNIT;
    this.tokens = capacity;
    this.last = now;
  }

  /**
   * Takes a token for a message that arrived at {@code arrivedAt}; false when there is none. Times
   * come in arrival order; one earlier than the last (a clock set back) refills nothing.
   */
  public boolean take(long arrivedAt) {
    long elapsed = arrivedAt - last;
    last = arrivedAt;
    if (elapsed > 0) {
      // Past the time an empty bucket takes to fill, it is full (and the product cannot overflow).
      long gain = elapsed > capacity / perMilli ? capacity : elapsed * perMilli;
      tokens = Math.min(capacity, tokens + gain);
    }
    if (tokens == capacity) {
      // The client paused long enough to earn its whole burst back: it is not flooding.
      refusedSinceFull = 0;
    }
    if (tokens >= UNIT) {
      tokens -= UNIT;
      return true;
    }
    return false;
  }

  /** Counts a refused message; returns how many were refused since the bucket was last full. */
  public int refused() {
    return ++refusedSinceFull;
  }
}
