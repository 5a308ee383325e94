package io.agserver;

import java.util.concurrent.CompletableFuture;

import io.agserver.protocol.AGError;

/**
 * One action a client attempts, handed to middleware to {@link #allow()} (possibly with new data)
 * or {@link #block(Throwable)}. Deciding twice throws InvalidActionError, as in the original. A
 * middleware may decide later, from any thread: the socket's later messages wait for it.
 */
public final class AGAction {

  /** What an action is; SocketCluster's strings as their {@link #value()} (and JSON form). */
  public enum Type {
    HANDSHAKE_WS("handshakeWS"), HANDSHAKE_SC("handshakeSC"), MESSAGE("message"), TRANSMIT("transmit"),
    INVOKE("invoke"), SUBSCRIBE("subscribe"), PUBLISH_IN("publishIn"), PUBLISH_OUT("publishOut"),
    AUTHENTICATE("authenticate");

    private final String value;

    Type(String value) {
      this.value = value;
    }

    @com.fasterxml.jackson.annotation.JsonValue
    public String value() {
      return value;
    }

    @Override
    public String toString() {
      return value;
    }
  }

  /** How a middleware decided. */
  public enum Outcome {
    ALLOWED("allowed"), BLOCKED("blocked");

    private final String value;

    Outcome(String value) {
      this.value = value;
    }

    @com.fasterxml.jackson.annotation.JsonValue
    public String value() {
      return value;
    }

    @Override
    public String toString() {
      return value;
    }
  }

  // SocketCluster's constants (AGAction.SUBSCRIBE ...), as the enums' values.
  public static final Type HANDSHAKE_WS = Type.HANDSHAKE_WS;
  public static final Type HANDSHAKE_SC = Type.HANDSHAKE_SC;
  public static final Type MESSAGE = Type.MESSAGE;
  public static final Type TRANSMIT = Type.TRANSMIT;
  public static final Type INVOKE = Type.INVOKE;
  public static final Type SUBSCRIBE = Type.SUBSCRIBE;
  public static final Type PUBLISH_IN = Type.PUBLISH_IN;
  public static final Type PUBLISH_OUT = Type.PUBLISH_OUT;
  public static final Type AUTHENTICATE = Type.AUTHENTICATE;

  public static final Outcome ALLOWED = Outcome.ALLOWED;
  public static final Outcome BLOCKED = Outcome.BLOCKED;

  private final Type type;
  private final AGServerSocket socket;
  private final AGUpgradeRequest request;
  private final Object data;
  private final String channel;
  private final String procedure;
  private final String receiver;
  private final String signedAuthToken;
  private final java.util.Map<String, Object> authToken;
  private final AGError authTokenExpiredError;
  private final CompletableFuture<Object> decision = new CompletableFuture<>();
  private volatile Outcome outcome;

  private AGAction(Builder b) {
    this.type = b.type;
    this.socket = b.socket;
    this.request = b.request != null ? b.request : b.socket != null ? b.socket.request() : null;
    this.data = b.data;
    this.channel = b.channel;
    this.procedure = b.procedure;
    this.receiver = b.receiver;
    this.signedAuthToken = b.signedAuthToken;
    this.authToken = b.authToken;
    this.authTokenExpiredError = b.authTokenExpiredError;
  }

  public static Builder builder(Type type) {
    return new Builder(type);
  }

  /** The same action with other data, for the next middleware of a chain. */
  public AGAction withData(Object newData) {
    Builder b = new Builder(type);
    b.socket = socket;
    b.request = request;
    b.data = newData;
    b.channel = channel;
    b.procedure = procedure;
    b.receiver = receiver;
    b.signedAuthToken = signedAuthToken;
    b.authToken = authToken;
    b.authTokenExpiredError = authTokenExpiredError;
    return new AGAction(b);
  }

  public Type type() {
    return type;
  }

  /** The socket acting; null for HANDSHAKE_WS, which happens before there is one. */
  public AGServerSocket socket() {
    return socket;
  }

  /** The HTTP upgrade request of the connection. */
  public AGUpgradeRequest request() {
    return request;
  }

  /**
   * The action's data: the message for MESSAGE, the transmitted or invoked data, the published
   * data, the subscription's data, or the auth information for HANDSHAKE_SC.
   */
  public Object data() {
    return data;
  }

  /** The channel of SUBSCRIBE, PUBLISH_IN and PUBLISH_OUT. */
  public String channel() {
    return channel;
  }

  /**
   * The procedure of INVOKE. For SUBSCRIBE: null when the client subscribes, {@code "#history"}
   * or {@code "#presence"} when it reads the channel's history or presence (guarded as a
   * subscription is).
   */
  public String procedure() {
    return procedure;
  }

  /** A SUBSCRIBE action that reads the channel ({@code #history}, {@code #presence}) rather than subscribing. */
  public boolean isChannelRead() {
    return type == Type.SUBSCRIBE && procedure != null;
  }

  /** The receiver of TRANSMIT. */
  public String receiver() {
    return receiver;
  }

  /** The token of AUTHENTICATE, as signed. */
  public String signedAuthToken() {
    return signedAuthToken;
  }

  /** The token of AUTHENTICATE, verified. */
  public java.util.Map<String, Object> authToken() {
    return authToken;
  }

  /** Set when the socket's token had expired by the time this inbound action arrived. */
  public AGError authTokenExpiredError() {
    return authTokenExpiredError;
  }

  /** {@link #ALLOWED}, {@link #BLOCKED}, or null while undecided. */
  public Outcome outcome() {
    return outcome;
  }

  public boolean isDecided() {
    return outcome != null;
  }

  /** Lets the action through unchanged. */
  public void allow() {
    decide(ALLOWED);
    decision.complete(data);
  }

  /** Lets the action through with {@code newData} in place of its data. */
  public void allow(Object newData) {
    decide(ALLOWED);
    decision.complete(newData);
  }

  /** Blocks silently: the client gets a SilentMiddlewareBlockedError naming the line. */
  public void block() {
    decide(BLOCKED);
    decision.completeExceptionally(new Blocked(null));
  }

  /** Blocks with {@code error}, which the client receives (dehydrated). */
  public void block(Throwable error) {
    decide(BLOCKED);
    decision.completeExceptionally(new Blocked(error));
  }

  private synchronized void decide(Outcome result) {
    if (outcome != null) {
      throw AGError.invalidAction("AGAction " + type + " has already been " + outcome + "; cannot "
          + (ALLOWED.equals(result) ? "allow" : "block"));
    }
    outcome = result;
  }

  /** Completes with the (possibly new) data, or fails with {@link Blocked}. */
  CompletableFuture<Object> decision() {
    return decision;
  }

  /** The failure of a blocked action; {@code error} is what the middleware blocked with, or null. */
  static final class Blocked extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient Throwable error;

    Blocked(Throwable error) {
      super(null, null, false, false);
      this.error = error;
    }
  }

  @Override
  public String toString() {
    return "AGAction[" + type + (channel != null ? " " + channel : "") + (procedure != null ? " " + procedure : "")
        + (receiver != null ? " " + receiver : "") + "]";
  }

  /** Builds actions; the server does, and tests may. */
  public static final class Builder {
    private final Type type;
    private AGServerSocket socket;
    private AGUpgradeRequest request;
    private Object data;
    private String channel;
    private String procedure;
    private String receiver;
    private String signedAuthToken;
    private java.util.Map<String, Object> authToken;
    private AGError authTokenExpiredError;

    private Builder(Type type) {
      this.type = type;
    }

    public Builder socket(AGServerSocket value) {
      socket = value;
      return this;
    }

    public Builder request(AGUpgradeRequest value) {
      request = value;
      return this;
    }

    public Builder data(Object value) {
      data = value;
      return this;
    }

    public Builder channel(String value) {
      channel = value;
      return this;
    }

    public Builder procedure(String value) {
      procedure = value;
      return this;
    }

    public Builder receiver(String value) {
      receiver = value;
      return this;
    }

    public Builder signedAuthToken(String value) {
      signedAuthToken = value;
      return this;
    }

    public Builder authToken(java.util.Map<String, Object> value) {
      authToken = value;
      return this;
    }

    public Builder authTokenExpiredError(AGError value) {
      authTokenExpiredError = value;
      return this;
    }

    public AGAction build() {
      return new AGAction(this);
    }
  }
}
