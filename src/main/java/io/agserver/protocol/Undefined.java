package io.agserver.protocol;

/**
 * JavaScript's {@code undefined}, where the protocol tells it apart from {@code null}: a transmit
 * without data reaches its receiver as {@link #INSTANCE}, and sending it back leaves the data out
 * again. The JSON codec writes it as {@code JSON.stringify} does: an object property holding it is
 * omitted, an array element or a top-level value becomes {@code null}.
 */
public enum Undefined {
  INSTANCE;

  /** {@code value}, or null when it is {@link #INSTANCE}: for code that does not care. */
  public static Object orNull(Object value) {
    return value == INSTANCE ? null : value;
  }

  public static boolean isUndefined(Object value) {
    return value == INSTANCE;
  }

  @Override
  public String toString() {
    return "undefined";
  }
}
