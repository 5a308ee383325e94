package io.agserver.middleware;

import io.agserver.protocol.AGError;

/** The four middleware lines; SocketCluster's strings ({@code AGServer.MIDDLEWARE_INBOUND} ...) as their values. */
public enum MiddlewareType {
  HANDSHAKE("handshake"), INBOUND_RAW("inboundRaw"), INBOUND("inbound"), OUTBOUND("outbound");

  private final String value;

  MiddlewareType(String value) {
    this.value = value;
  }

  public String value() {
    return value;
  }

  /** The line named {@code value}; InvalidArgumentsError for any other name, as the original. */
  public static MiddlewareType of(String value) {
    for (MiddlewareType type : values()) {
      if (type.value.equals(value)) {
        return type;
      }
    }
    throw AGError.invalidArguments("Middleware " + value + " type is not supported");
  }

  @Override
  public String toString() {
    return value;
  }
}
