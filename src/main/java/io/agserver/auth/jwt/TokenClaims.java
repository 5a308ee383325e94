package io.agserver.auth.jwt;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import io.agserver.auth.AuthTokenOptions;
import io.agserver.codec.JsonCodec;

/**
 * The claims of a token the server signs, written as jsonwebtoken writes them for
 * socketcluster-server's {@code setAuthToken}: the data as JSON sees it, {@code iat} = the data's
 * own {@code iat} when it has a non-zero one, otherwise now (whole seconds); {@code nbf} from the
 * notBefore option; {@code exp} = iat + expiresIn unless the data has its own {@code exp}, which
 * is kept. New claims are appended in that order; a claim the data already has keeps its place.
 */
public final class TokenClaims {

  private TokenClaims() {
  }

  /**
   * @param data the token data; copied (through JSON, so that it holds exactly what a client
   *     or a verifying server will see), never changed
   * @param defaultExpiry the expiry when neither the data nor the options have one
   * @param nowSeconds the current time in whole seconds
   * @throws IllegalArgumentException as jsonwebtoken refuses to sign: data that is not an
   *     object, an {@code iat}, {@code exp} or {@code nbf} that is not a number, an nbf in both
   *     the data and the options
   */
  public static Map<String, Object> prepare(Map<String, ?> data, AuthTokenOptions options, Duration defaultExpiry,
      long nowSeconds) {
    Map<String, Object> claims = copy(data);
    for (String claim : new String[] {"iat", "exp", "nbf"}) {
      if (claims.containsKey(claim) && !(claims.get(claim) instanceof Number)) {
        throw new IllegalArgumentException("\"" + claim + "\" should be a number of seconds");
      }
    }
    Number iat = (Number) claims.get("iat");
    Number timestamp = iat == null || iat.doubleValue() == 0 || Double.isNaN(iat.doubleValue())
        ? integer(nowSeconds) : iat;
    claims.put("iat", timestamp);
    if (options.notBefore() != null) {
      if (claims.containsKey("nbf")) {
        throw new IllegalArgumentException(
            "Bad \"options.notBefore\" option the payload already has an \"nbf\" property.");
      }
      claims.put("nbf", offset(timestamp, options.notBefore()));
    }
    if (!claims.containsKey("exp")) {
      Duration expiresIn = options.expiresIn() != null ? options.expiresIn() : defaultExpiry;
      if (expiresIn != null) {
        claims.put("exp", offset(timestamp, expiresIn));
      }
    }
    return claims;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> copy(Map<String, ?> data) {
    if (data == null) {
      throw new IllegalArgumentException("Expected \"payload\" to be a plain object.");
    }
    JsonCodec codec = JsonCodec.instance();
    Object copy = codec.decode(codec.encode(data));
    if (!(copy instanceof Map)) {
      throw new IllegalArgumentException("Expected \"payload\" to be a plain object.");
    }
    return new LinkedHashMap<>((Map<String, Object>) copy);
  }

  /**
   * jsonwebtoken's timespan(): a whole number of seconds is added as a number; anything finer
   * goes through milliseconds and is floored, as for its string timespans.
   */
  static Number offset(Number timestamp, Duration span) {
    boolean wholeSeconds = span.getNano() == 0;
    if (wholeSeconds && (timestamp instanceof Long || timestamp instanceof Integer)) {
      return integer(Math.addExact(timestamp.longValue(), span.getSeconds()));
    }
    double value = wholeSeconds
        ? timestamp.doubleValue() + span.getSeconds()
        : Math.floor(timestamp.doubleValue() + span.toMillis() / 1000d);
    return number(value);
  }

  /** A double as the JSON reader would give it back: integral values as Integer or Long. */
  private static Number number(double value) {
    if (value == Math.rint(value) && Math.abs(value) <= (1L << 53)) {
      return integer((long) value);
    }
    return value;
  }

  /** As the codec reads integers: Integer when it fits, else Long. */
  private static Number integer(long value) {
    if (value == (int) value) {
      return Integer.valueOf((int) value);
    }
    return Long.valueOf(value);
  }
}
