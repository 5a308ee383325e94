package io.agserver.ops.admin;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Wrong admin passwords, per client address: after {@value #FAILURES} wrong ones within
 * {@value #WINDOW_MS} ms an address is blocked for {@value #BLOCK_MS} ms, and every request it
 * makes then is answered 429 (the right password included: a guesser learns nothing while
 * blocked). The right password does not forget them: an operator's open page passes the gate
 * every second, and a guesser behind the same address (a shared NAT) would otherwise never reach
 * the count. The addresses are those the gate counts under ({@link io.agserver.ops.ClientAddress#block}:
 * an IPv6 address's /64).
 *
 * <p>At most {@value #MAX_ADDRESSES} addresses are remembered, the least recently seen forgotten
 * first, so that many addresses cannot grow the table without bound. Each wrong password and each
 * blocked request is logged at FINE on this class's logger, and a WARNING counts them at most once
 * a minute, so that a flood of guesses cannot flood the log.
 *
 * <p>One lock guards the table and the counts: it is taken once per admin request, which are few.
 */
final class LoginThrottle {

  private static final Logger LOG = Logger.getLogger(LoginThrottle.class.getName());

  static final int FAILURES = 5;
  static final long WINDOW_MS = 60_000;
  static final long BLOCK_MS = 60_000;
  static final int MAX_ADDRESSES = 10_000;
  /** At most one WARNING in this many milliseconds. */
  static final long WARNING_INTERVAL = 60_000;

  /** An address's failures: how many since {@code since}, and until when it is blocked (0: not). */
  private static final class Failures {
    int count;
    long since;
    long blockedUntil;
  }

  private final LongSupplier clock;
  private final Map<String, Failures> byAddress = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Failures> eldest) {
      return size() > MAX_ADDRESSES;
    }
  };
  // Since the last WARNING.
  private long wrongPasswords;
  private long blockedRequests;
  private long addressesBlocked;
  private long lastWarning = Long.MIN_VALUE;
  private long quietUntil = Long.MIN_VALUE;

  /** {@code clock}: milliseconds (the server's clock). */
  LoginThrottle(LongSupplier clock) {
    this.clock = clock;
  }

  /** Milliseconds the address stays blocked; 0 when it is not (the request is counted when it is). */
  long blockedFor(String address) {
    String warning;
    long left;
    synchronized (this) {
      long now = clock.getAsLong();
      Failures failures = byAddress.get(address);
      if (failures == null || failures.blockedUntil <= now) {
        return 0;
      }
      left = failures.blockedUntil - now;
      blockedRequests++;
      warning = warningDue(now);
    }
    if (LOG.isLoggable(Level.FINE)) {
      LOG.fine("agserver admin: a request from " + address + " refused (429): blocked for " + left
          + " ms more after " + FAILURES + " wrong passwords");
    }
    warn(warning);
    return left;
  }

  /** A wrong password from {@code address}, given with the user name {@code user}. */
  void failed(String address, String user) {
    String warning;
    boolean blocked = false;
    synchronized (this) {
      long now = clock.getAsLong();
      Failures failures = byAddress.computeIfAbsent(address, a -> new Failures());
      if (failures.count == 0 || now - failures.since > WINDOW_MS) {
        failures.count = 0;
        failures.since = now;
      }
      failures.count++;
      wrongPasswords++;
      if (failures.count >= FAILURES) {
        failures.blockedUntil = now + BLOCK_MS;
        failures.count = 0;
        addressesBlocked++;
        blocked = true;
      }
      warning = warningDue(now);
    }
    if (LOG.isLoggable(Level.FINE)) {
      LOG.fine("agserver admin: wrong password from " + address + " (user '" + AdminRequests.printable(user) + "')"
          + (blocked ? "; the address is blocked for " + BLOCK_MS + " ms" : ""));
    }
    warn(warning);
  }

  /**
   * The sampler's turn: the WARNING of what was counted since the last one, once the quiet minute
   * is over, so that the end of a flood is told without waiting for another guess.
   */
  void summarize() {
    String warning;
    synchronized (this) {
      if (wrongPasswords + blockedRequests == 0) {
        return;
      }
      warning = warningDue(clock.getAsLong());
    }
    warn(warning);
  }

  /** How many addresses are remembered now (for tests). */
  synchronized int addresses() {
    return byAddress.size();
  }

  /** Under the lock: the WARNING's text when one is due now (the counts start again), else null. */
  private String warningDue(long now) {
    if (now < quietUntil || wrongPasswords + blockedRequests == 0) {
      return null;
    }
    quietUntil = now + WARNING_INTERVAL;
    long since = lastWarning;
    lastWarning = now;
    StringBuilder text = new StringBuilder("agserver admin: ").append(wrongPasswords)
        .append(wrongPasswords == 1 ? " wrong password" : " wrong passwords").append(" for the admin page");
    if (since != Long.MIN_VALUE) {
      text.append(" in the last ").append(Math.max(1, (now - since) / 1000)).append(" s");
    }
    if (addressesBlocked > 0) {
      text.append("; ").append(addressesBlocked).append(" addresses blocked for ").append(BLOCK_MS / 1000)
          .append(" s after ").append(FAILURES).append(" in a minute");
    }
    if (blockedRequests > 0) {
      text.append("; ").append(blockedRequests).append(" requests refused while blocked (429)");
    }
    text.append(". Each is logged at FINE on ").append(LoginThrottle.class.getName())
        .append("; the next summary comes a minute from now at the earliest.");
    wrongPasswords = 0;
    blockedRequests = 0;
    addressesBlocked = 0;
    return text.toString();
  }

  private static void warn(String warning) {
    if (warning != null) {
      LOG.warning(warning);
    }
  }
}
