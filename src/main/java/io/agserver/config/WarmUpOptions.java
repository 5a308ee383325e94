package io.agserver.config;

import java.util.Optional;

/**
 * The warm start ({@code socketcluster.warmUp*}): before it reports ready, the server makes
 * WebSocket connections to its own port for {@code millis} and drives its hot paths through them.
 *
 * @param millis {@code socketcluster.warmUp}: how long, in milliseconds; 0 turns it off
 * @param port {@code socketcluster.warmUp.port}: the server's HTTP port; empty to take the one the
 *     runtime states (Open Liberty's {@code default.http.port}, Payara's
 *     {@code payara.instance.http.port})
 * @param host {@code socketcluster.warmUp.host}: the address to connect to; empty for the one the
 *     runtime listens on when it names one, else 127.0.0.1
 */
public record WarmUpOptions(long millis, Optional<Integer> port, Optional<String> host) {

  /** A few seconds: see README, "Warm start", for what they buy. */
  public static final long DEFAULT_MILLIS = 5_000;

  public WarmUpOptions {
    if (millis < 0) {
      throw AGServerOptions.invalid("warmUp", millis, "a number of milliseconds >= 0 (0: off)");
    }
    if (port.isPresent() && (port.get() < 1 || port.get() > 65535)) {
      throw AGServerOptions.invalid("warmUp.port", port.get(), "a port from 1 to 65535");
    }
  }

  public boolean enabled() {
    return millis > 0;
  }
}
