package io.agserver.config;

import java.util.Optional;

/**
 * The limits an operator puts on clients ({@code socketcluster.maxConnections...},
 * {@code socketcluster.rateLimit.*}); every one is off unless set.
 *
 * @param maxConnections           {@code socketcluster.maxConnections}: sockets (and upgrades on
 *                                 their way to becoming one) this instance holds at once; one more
 *                                 upgrade is refused with HTTP 503; 0: no limit
 * @param maxConnectionsPerAddress {@code socketcluster.maxConnectionsPerAddress}: the same, per
 *                                 client address; one more is refused with HTTP 429; 0: no limit
 * @param clientAddressHeader      {@code socketcluster.clientAddressHeader}: a header the proxy in
 *                                 front writes the client's address into (X-Forwarded-For): the
 *                                 per-address limit takes its last entry, the one the proxy wrote
 * @param messagesPerSecond        {@code socketcluster.rateLimit.messagesPerSecond}: the rate at
 *                                 which one socket's token bucket refills; 0: no rate limit
 * @param burst                    {@code socketcluster.rateLimit.burst}: the bucket's size, what a
 *                                 socket may send at once after a pause
 * @param closeAfter               {@code socketcluster.rateLimit.closeAfter}: messages refused
 *                                 since the socket's bucket was last full that close it (1008);
 *                                 0: never closed for it
 */
public record LimitOptions(int maxConnections, int maxConnectionsPerAddress, Optional<String> clientAddressHeader,
    double messagesPerSecond, int burst, int closeAfter) {

  public static final String MAX_CONNECTIONS = "maxConnections";
  public static final String MAX_CONNECTIONS_PER_ADDRESS = "maxConnectionsPerAddress";
  public static final String CLIENT_ADDRESS_HEADER = "clientAddressHeader";
  public static final String MESSAGES_PER_SECOND = "rateLimit.messagesPerSecond";
  public static final String BURST = "rateLimit.burst";
  public static final String CLOSE_AFTER = "rateLimit.closeAfter";

  public LimitOptions {
    if (maxConnections < 0) {
      throw AGServerOptions.invalid(MAX_CONNECTIONS, maxConnections, "a number > 0, or none");
    }
    if (maxConnectionsPerAddress < 0) {
      throw AGServerOptions.invalid(MAX_CONNECTIONS_PER_ADDRESS, maxConnectionsPerAddress, "a number > 0, or none");
    }
    if (clientAddressHeader.isPresent()) {
      String header = clientAddressHeader.get();
      if (!header.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
        throw AGServerOptions.invalid(CLIENT_ADDRESS_HEADER, header, "an HTTP header name");
      }
      if (maxConnectionsPerAddress == 0) {
        throw new IllegalArgumentException(AGServerOptions.PREFIX + CLIENT_ADDRESS_HEADER + " is set but "
            + AGServerOptions.PREFIX + MAX_CONNECTIONS_PER_ADDRESS + " is not: the header only serves that limit");
      }
    }
    if (!(messagesPerSecond >= 0) || Double.isInfinite(messagesPerSecond)) {
      throw AGServerOptions.invalid(MESSAGES_PER_SECOND, messagesPerSecond, "a number > 0, or none");
    }
    if (burst < 0) {
      throw AGServerOptions.invalid(BURST, burst, "a number >= 1");
    }
    if (closeAfter < 0) {
      throw AGServerOptions.invalid(CLOSE_AFTER, closeAfter, "a number > 0, or none");
    }
    if (messagesPerSecond == 0 && (burst != 0 || closeAfter != 0)) {
      throw new IllegalArgumentException(AGServerOptions.PREFIX + (burst != 0 ? BURST : CLOSE_AFTER)
          + " is set but " + AGServerOptions.PREFIX + MESSAGES_PER_SECOND + " is not: there is no rate limit");
    }
    if (messagesPerSecond > 0 && burst == 0) {
      burst = defaultBurst(messagesPerSecond);
    }
  }

  /** No limit at all. */
  public static LimitOptions none() {
    return new LimitOptions(0, 0, Optional.empty(), 0, 0, 0);
  }

  /** One second's worth of messages, at least one. */
  static int defaultBurst(double messagesPerSecond) {
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, Math.ceil(messagesPerSecond)));
  }

  public boolean limitsConnections() {
    return maxConnections > 0 || maxConnectionsPerAddress > 0;
  }

  public boolean limitsRate() {
    return messagesPerSecond > 0;
  }
}
