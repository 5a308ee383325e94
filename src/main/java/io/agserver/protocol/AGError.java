package io.agserver.protocol;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A SocketCluster error: a name, a message and extra fields, crossing the wire as sc-errors
 * (de)hydrates it.
 *
 * <p>The factories mirror the sc-errors constructors. A constructor argument that is null is not
 * stored as a field, because in JS it would be {@code undefined} and JSON.stringify would drop it;
 * {@link #with} stores nulls as given (a JSON {@code null}).
 *
 * <p>Fields are not synchronized: finish building an error before handing it to another thread.
 */
public class AGError extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String name;
  private final Map<String, Object> fields = new LinkedHashMap<>();

  public AGError(String name, String message) {
    this(name, message, null);
  }

  public AGError(String name, String message, Throwable cause) {
    super(message, cause);
    this.name = Objects.requireNonNull(name, "name");
  }

  public String name() {
    return name;
  }

  /**
   * Adds or overwrites an extra field; an overwritten field keeps its position, like a JS property.
   *
   * @throws IllegalArgumentException for "name" and "message", which are not extra fields
   */
  public AGError with(String field, Object value) {
    Objects.requireNonNull(field, "field");
    if (field.equals("name") || field.equals("message")) {
      throw new IllegalArgumentException("'" + field + "' is not an extra field of an AGError");
    }
    fields.put(field, value);
    return this;
  }

  public Object get(String field) {
    return fields.get(field);
  }

  /** The extra fields in insertion order; a read-only view. */
  public Map<String, Object> fields() {
    return Collections.unmodifiableMap(fields);
  }

  /** Like JS {@code Error.prototype.toString}, which the server uses as a close reason. */
  @Override
  public String toString() {
    String message = getMessage();
    if (message == null || message.isEmpty()) {
      return name;
    }
    return name.isEmpty() ? message : name + ": " + message;
  }

  private AGError withPresent(String field, Object value) {
    return value == null ? this : with(field, value);
  }

  public static AGError authTokenExpired(String message, Object expiry) {
    return new AGError("AuthTokenExpiredError", message).withPresent("expiry", expiry);
  }

  public static AGError authTokenInvalid(String message) {
    return new AGError("AuthTokenInvalidError", message);
  }

  public static AGError authTokenNotBefore(String message, Object date) {
    return new AGError("AuthTokenNotBeforeError", message).withPresent("date", date);
  }

  /** Any other auth token error. */
  public static AGError authToken(String message) {
    return new AGError("AuthTokenError", message);
  }

  /** Any other auth error, not about the token itself. */
  public static AGError auth(String message) {
    return new AGError("AuthError", message);
  }

  public static AGError silentMiddlewareBlocked(String message, String type) {
    return new AGError("SilentMiddlewareBlockedError", message).withPresent("type", type);
  }

  public static AGError invalidAction(String message) {
    return new AGError("InvalidActionError", message);
  }

  public static AGError invalidArguments(String message) {
    return new AGError("InvalidArgumentsError", message);
  }

  public static AGError invalidOptions(String message) {
    return new AGError("InvalidOptionsError", message);
  }

  public static AGError invalidMessage(String message) {
    return new AGError("InvalidMessageError", message);
  }

  public static AGError socketProtocol(String message, int code) {
    return new AGError("SocketProtocolError", message).with("code", code);
  }

  public static AGError serverProtocol(String message) {
    return new AGError("ServerProtocolError", message);
  }

  public static AGError httpServer(String message) {
    return new AGError("HTTPServerError", message);
  }

  public static AGError resourceLimit(String message) {
    return new AGError("ResourceLimitError", message);
  }

  /**
   * agserver's own: a message over its socket's {@code socketcluster.rateLimit} (no sc-errors
   * type says it; the client reads the name as any other).
   */
  public static AGError rateLimit(String message) {
    return new AGError("RateLimitError", message);
  }

  public static AGError timeout(String message) {
    return new AGError("TimeoutError", message);
  }

  /**
   * As the JS constructor: a null or 0 code means 1001 ({@code code || 1001}), a null or empty
   * reason means the code's ignore reason or "" ({@code reason || ignoreStatuses[code] || ''}).
   */
  public static AGError badConnection(String message, String type, Integer code, String reason) {
    int actualCode = code == null || code == 0 ? CloseCodes.GOING_AWAY : code;
    String actualReason = reason;
    if (actualReason == null || actualReason.isEmpty()) {
      actualReason = Objects.requireNonNullElse(CloseCodes.ignoreReason(actualCode), "");
    }
    return new AGError("BadConnectionError", message)
        .withPresent("type", type)
        .with("code", actualCode)
        .with("reason", actualReason);
  }

  /** A history position that cannot be continued from: another epoch, or publications gone. */
  public static AGError unrecoverablePosition(String message) {
    return new AGError("UnrecoverablePositionError", message);
  }

  public static AGError broker(String message) {
    return new AGError("BrokerError", message);
  }

  public static AGError processExit(String message, int code) {
    return new AGError("ProcessExitError", message).with("code", code);
  }

  public static AGError unknown(String message) {
    return new AGError("UnknownError", message);
  }
}
