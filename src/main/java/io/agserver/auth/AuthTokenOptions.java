package io.agserver.auth;

import java.time.Duration;

/**
 * Options of {@code AGServerSocket.setAuthToken}: the original's {@code expiresIn},
 * {@code notBefore} and {@code rejectOnFailedDelivery}. The algorithm is not an option: it comes
 * from the server's configuration only.
 *
 * @param expiresIn the token's lifetime from its {@code iat}; null for the server's
 *     {@code authDefaultExpiry}. Ignored when the data already has an {@code exp} claim.
 * @param notBefore when the token becomes valid, from its {@code iat}; null for no {@code nbf}
 * @param rejectOnFailedDelivery when true, {@code #setAuthToken} is an invoke and the returned
 *     stage fails with an {@code AuthError} if the client does not acknowledge it
 */
public record AuthTokenOptions(Duration expiresIn, Duration notBefore, boolean rejectOnFailedDelivery) {

  /** No option set: the default expiry, no nbf, a plain transmit. */
  public static final AuthTokenOptions DEFAULTS = new AuthTokenOptions(null, null, false);

  /** The token expires {@code seconds} after it was issued (jsonwebtoken's numeric expiresIn). */
  public static AuthTokenOptions expiresIn(long seconds) {
    return DEFAULTS.withExpiresIn(Duration.ofSeconds(seconds));
  }

  public static AuthTokenOptions expiresIn(Duration expiresIn) {
    return DEFAULTS.withExpiresIn(expiresIn);
  }

  /** The token expires after a timespan in the {@code ms} package's notation: "2h", "7d", "90s". */
  public static AuthTokenOptions expiresIn(String timespan) {
    return DEFAULTS.withExpiresIn(Timespan.parse(timespan));
  }

  public AuthTokenOptions withExpiresIn(Duration value) {
    return new AuthTokenOptions(value, notBefore, rejectOnFailedDelivery);
  }

  public AuthTokenOptions withNotBefore(Duration value) {
    return new AuthTokenOptions(expiresIn, value, rejectOnFailedDelivery);
  }

  public AuthTokenOptions withRejectOnFailedDelivery(boolean value) {
    return new AuthTokenOptions(expiresIn, notBefore, value);
  }
}
