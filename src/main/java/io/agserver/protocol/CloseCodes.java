package io.agserver.protocol;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * WebSocket close codes and the reasons sc-errors attaches to them
 * ({@code socketProtocolErrorStatuses} and {@code socketProtocolIgnoreStatuses}).
 */
public final class CloseCodes {

  public static final int NORMAL = 1000;
  public static final int GOING_AWAY = 1001;
  public static final int PROTOCOL_ERROR = 1002;
  public static final int INVALID_DATA = 1003;
  public static final int NO_STATUS = 1005;
  public static final int ABNORMAL = 1006;
  public static final int INVALID_PAYLOAD = 1007;
  public static final int POLICY_VIOLATION = 1008;
  public static final int MESSAGE_TOO_BIG = 1009;
  /** Listed by sc-errors though the API brief names no constant for it. */
  public static final int MANDATORY_EXTENSION = 1010;
  public static final int SERVER_ERROR = 1011;
  /**
   * RFC 6455's registry: "Try Again Later". Not in sc-errors; agserver closes with it a connection
   * that opened when the server's connection limits no longer had room for it.
   */
  public static final int TRY_AGAIN_LATER = 1013;
  public static final int SERVER_PING_TIMEOUT = 4000;
  public static final int PONG_TIMEOUT = 4001;
  public static final int AUTH_SIGN_FAILED = 4002;
  public static final int HANDSHAKE_FAILED = 4003;
  public static final int AUTH_SAVE_FAILED = 4004;
  public static final int HANDSHAKE_TIMEOUT = 4005;
  public static final int BROKER_BIND_FAILED = 4006;
  public static final int CONNECT_TIMEOUT = 4007;
  public static final int HANDSHAKE_REJECTED = 4008;
  public static final int STRICT_HANDSHAKE = 4009;

  private static final Map<Integer, String> ERROR_REASONS;
  private static final Map<Integer, String> IGNORE_REASONS;

  static {
    Map<Integer, String> errors = new LinkedHashMap<>();
    errors.put(GOING_AWAY, "Socket was disconnected");
    errors.put(PROTOCOL_ERROR, "A WebSocket protocol error was encountered");
    errors.put(INVALID_DATA, "Server terminated socket because it received invalid data");
    errors.put(NO_STATUS, "Socket closed without status code");
    errors.put(ABNORMAL, "Socket hung up");
    errors.put(INVALID_PAYLOAD, "Message format was incorrect");
    errors.put(POLICY_VIOLATION, "Encountered a policy violation");
    errors.put(MESSAGE_TOO_BIG, "Message was too big to process");
    errors.put(MANDATORY_EXTENSION,
        "Client ended the connection because the server did not comply with extension requirements");
    errors.put(SERVER_ERROR, "Server encountered an unexpected fatal condition");
    errors.put(SERVER_PING_TIMEOUT, "Server ping timed out");
    errors.put(PONG_TIMEOUT, "Client pong timed out");
    errors.put(AUTH_SIGN_FAILED, "Server failed to sign auth token");
    errors.put(HANDSHAKE_FAILED, "Failed to complete handshake");
    errors.put(AUTH_SAVE_FAILED, "Client failed to save auth token");
    errors.put(HANDSHAKE_TIMEOUT, "Did not receive #handshake from client before timeout");
    errors.put(BROKER_BIND_FAILED, "Failed to bind socket to message broker");
    errors.put(CONNECT_TIMEOUT, "Client connection establishment timed out");
    errors.put(HANDSHAKE_REJECTED, "Server rejected handshake from client");
    errors.put(STRICT_HANDSHAKE, "Server received a message before the client handshake");
    ERROR_REASONS = Collections.unmodifiableMap(errors);

    Map<Integer, String> ignored = new LinkedHashMap<>();
    ignored.put(NORMAL, "Socket closed normally");
    ignored.put(GOING_AWAY, errors.get(GOING_AWAY));
    IGNORE_REASONS = Collections.unmodifiableMap(ignored);
  }

  private CloseCodes() {
  }

  /** The reason sc-errors gives for a close code that signals a failure, or null. */
  public static String errorReason(int code) {
    return ERROR_REASONS.get(code);
  }

  /** The reason for a close code that is a normal end of a connection (1000, 1001), or null. */
  public static String ignoreReason(int code) {
    return IGNORE_REASONS.get(code);
  }

  /** Whether a close with this code is expected and should not be reported as an error. */
  public static boolean isIgnored(int code) {
    return IGNORE_REASONS.containsKey(code);
  }

  /** {@code socketProtocolErrorStatuses}, in sc-errors' order. */
  public static Map<Integer, String> errorReasons() {
    return ERROR_REASONS;
  }

  /** {@code socketProtocolIgnoreStatuses}, in sc-errors' order. */
  public static Map<Integer, String> ignoreReasons() {
    return IGNORE_REASONS;
  }
}
