package io.agserver;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import io.agserver.middleware.MiddlewareType;
import io.agserver.auth.AuthTokenOptions;
import io.agserver.auth.DeauthenticateOptions;
import io.agserver.config.AGServerOptions;
import io.agserver.event.AGClosureEvent;
import io.agserver.event.AGConnectionAbortEvent;
import io.agserver.event.AGConnectionEvent;
import io.agserver.event.AGDisconnectionEvent;
import io.agserver.event.AGSocketEvent;
import io.agserver.core.Connection;
import io.agserver.core.InboundProcessor;
import io.agserver.core.MiddlewareLines;
import io.agserver.core.OutboundQueue;
import io.agserver.core.PendingInvokes;
import io.agserver.core.SerialRunner;
import io.agserver.core.ServerContext;
import io.agserver.core.SocketAuth;
import io.agserver.core.SocketBatcher;
import io.agserver.core.SocketContext;
import io.agserver.core.SocketSubscriptions;
import io.agserver.ops.ConnectionSlot;
import io.agserver.protocol.AGError;
import io.agserver.protocol.CloseCodes;
import io.agserver.codec.JsonCodec;
import io.agserver.ops.ServerFigures;
import io.agserver.pubsub.AGSubscriber;
import io.agserver.pubsub.StreamPosition;
import io.agserver.stream.AGStream;
import io.agserver.stream.ConsumerStats;
import io.agserver.stream.AsyncStreamEmitter;
import io.agserver.stream.StreamDemux;
import io.agserver.transport.AGTransport;

/**
 * The server side of one client connection: its state, its event, receiver and procedure
 * streams, and what the server sends to it. Inbound messages are handled one at a time in the
 * order they arrived ({@link InboundProcessor}); outbound frames leave one at a time
 * ({@link OutboundQueue}); any thread may call the public methods.
 *
 * <p>The socket's machinery lives in {@code io.agserver.core} and sees the socket through a
 * {@link SocketContext}; its transport drives it through a {@link Connection}. Both are views
 * the socket hands out, so that this class's public methods are the application's API only.
 */
public class AGServerSocket extends AsyncStreamEmitter implements AGSubscriber {

  /** A socket's states, SocketCluster's strings as their {@link #value()} (and JSON form). */
  public enum State {
    CONNECTING("connecting"), OPEN("open"), CLOSED("closed");

    private final String value;

    State(String value) {
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

  /** A socket's auth states, SocketCluster's strings as their {@link #value()} (and JSON form). */
  public enum AuthState {
    AUTHENTICATED("authenticated"), UNAUTHENTICATED("unauthenticated");

    private final String value;

    AuthState(String value) {
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

  // SocketCluster's constants (AGServerSocket.OPEN ...), as the enums' values.
  public static final State CONNECTING = State.CONNECTING;
  public static final State OPEN = State.OPEN;
  public static final State CLOSED = State.CLOSED;
  public static final AuthState AUTHENTICATED = AuthState.AUTHENTICATED;
  public static final AuthState UNAUTHENTICATED = AuthState.UNAUTHENTICATED;

  private final String id;
  private final AGServer server;
  private final ServerContext serverContext;
  private final ServerFigures figures;
  private final Context context = new Context();
  private final AGTransport transport;
  private final AGUpgradeRequest request;
  private final OutboundQueue outbound;
  private final SerialRunner inbound;
  private final InboundProcessor processor;
  private final PendingInvokes invokes;
  private final SocketBatcher batcher;
  private final SocketSubscriptions subscriptions;
  private final SerialRunner outboundOrder = new SerialRunner(this::emitError);
  private final StreamDemux<Object> receivers = new StreamDemux<>();
  private final StreamDemux<AGRequest> procedures = new StreamDemux<>();

  /** This connection's place under the connection limits (null without them): released once it closes. */
  private final ConnectionSlot slot;
  private final Object stateLock = new Object();
  private volatile State state = CONNECTING;
  private final SocketAuth auth;

  private volatile long inboundReceived;
  private volatile long inboundProcessed;
  // Set by the timer when it hands a close or an ack-timeout check to the workers, so that the
  // next rounds do not queue the same work again.
  private final java.util.concurrent.atomic.AtomicBoolean closeQueued = new java.util.concurrent.atomic.AtomicBoolean();
  private final java.util.concurrent.atomic.AtomicBoolean expiryQueued = new java.util.concurrent.atomic.AtomicBoolean();

  // RPCs received (AGRequests made, the server's own #subscribe ... included) and not answered yet.
  private final java.util.concurrent.atomic.AtomicInteger owedAnswers = new java.util.concurrent.atomic.AtomicInteger();
  // While the server drains: 0 until this socket's turn to close comes, then the time by which it
  // closes even if it still owes answers. Written once by the timer sweep, read by any thread.
  private volatile long drainDeadline;
  // The transport reported the connection closed (its close went out, or the client left).
  private volatile boolean connectionEnded;

  // Read by the server's timer sweep; written on the inbound path. Plain volatile fields: a pong
  // costs one write, never a timer reschedule.
  volatile long lastPongResetAt;
  volatile long nextPingAt;
  final long handshakeDeadline;
  // When the server accepted the connection, by its clock (ms since the epoch).
  private final long acceptedAt;

  AGServerSocket(String id, AGServer server, ServerContext serverContext, AGTransport transport,
      AGUpgradeRequest request, ConnectionSlot slot) {
    this.id = id;
    this.slot = slot;
    this.server = server;
    this.serverContext = serverContext;
    this.transport = transport;
    this.request = request;
    AGServerOptions options = server.options();
    this.figures = server.figures();
    this.outbound = new OutboundQueue(transport, new OutboundOwner(), options.outboundBufferLimit(),
        options.outboundCoalescing() && server.codec() instanceof JsonCodec, figures);
    this.inbound = new SerialRunner(this::emitError, this::drainStep);
    this.auth = new SocketAuth(context);
    this.processor = new InboundProcessor(context);
    this.invokes = new PendingInvokes();
    this.batcher = new SocketBatcher(context, serverContext.scheduler(), options.batchInterval());
    this.subscriptions = new SocketSubscriptions(context);
    long now = serverContext.scheduler().now();
    this.acceptedAt = now;
    this.lastPongResetAt = now;
    this.nextPingAt = now + options.pingInterval();
    this.handshakeDeadline = now + options.handshakeTimeout();
  }

  // ---- properties ----

  public String id() {
    return id;
  }

  public AGServer server() {
    return server;
  }

  /** The HTTP upgrade request (headers, query, cookies) that opened this socket. */
  public AGUpgradeRequest request() {
    return request;
  }

  public String remoteAddress() {
    return request.remoteAddress();
  }

  /** When the server accepted this socket's WebSocket connection (before its {@code #handshake}). */
  public java.time.Instant connectedAt() {
    return java.time.Instant.ofEpochMilli(acceptedAt);
  }

  public State state() {
    return state;
  }

  public AuthState authState() {
    return auth.state().authState();
  }

  /** The verified payload of the socket's token, or null. */
  public Map<String, Object> authToken() {
    return auth.state().authToken();
  }

  public String signedAuthToken() {
    return auth.state().signedAuthToken();
  }

  /**
   * Authenticates the socket with a token holding {@code data} (plus iat and exp), signed with the
   * server's key, and sends it to the client ({@code #setAuthToken}), which keeps it for later
   * connections. The stage completes once it is sent; it fails, and the socket closes with 4002,
   * if the token cannot be signed.
   */
  public CompletionStage<Void> setAuthToken(Map<String, ?> data) {
    return auth.setAuthToken(data, AuthTokenOptions.DEFAULTS);
  }

  /** As {@link #setAuthToken(Map)} with an expiry of its own, or an acknowledged delivery. */
  public CompletionStage<Void> setAuthToken(Map<String, ?> data, AuthTokenOptions options) {
    return auth.setAuthToken(data, options);
  }

  /** Drops the socket's token and tells the client to drop it too ({@code #removeAuthToken}). */
  public CompletionStage<Void> deauthenticate() {
    return auth.deauthenticate(DeauthenticateOptions.DEFAULTS);
  }

  /** As {@link #deauthenticate()}; with rejectOnFailedDelivery, waits for the client's acknowledgement. */
  public CompletionStage<Void> deauthenticate(DeauthenticateOptions options) {
    return auth.deauthenticate(options);
  }

  /** Drops the token on the server side only, with the deauthentication events. */
  public void deauthenticateSelf() {
    auth.deauthenticateSelf();
  }

  /** Whether the socket's token has expired (its numeric exp is in the past). */
  public boolean isAuthTokenExpired() {
    return auth.isExpired(authToken());
  }

  /** Whether {@code token} has expired, as the original's isAuthTokenExpired(token). */
  public boolean isAuthTokenExpired(Map<String, ?> token) {
    return auth.isExpired(token);
  }

  /** setAuthToken's signing failure: close with {@code code}; {@code reason} is for the server's events. */
  private void closeForAuthFailure(int code, String reason) {
    if (state != CLOSED) {
      destroy(code, reason);
      outbound.close(code, null);
    }
  }

  public long bytesReceived() {
    return transport.bytesReceived();
  }

  // ---- inbound ----

  /** The socket as its machinery sees it (and tests in this package). */
  SocketContext context() {
    return context;
  }

  /** The socket as its transport drives it. */
  Connection connection() {
    return context;
  }

  /**
   * A text or binary frame arrived (called by the transport, one frame at a time). When more than
   * {@code inboundBufferLimit} messages already wait behind a handler or middleware that holds the
   * socket, the client is not waiting for answers: it is closed with 1008.
   */
  void receive(Object message) {
    if (state == CLOSED) {
      return;
    }
    long now = serverContext.scheduler().now();
    boolean isPong = serverContext.pongMessage().equals(message);
    if (isPong || now - lastPongResetAt > server.options().pingTimeout() / 4) {
      lastPongResetAt = now;
    }
    if (inbound.pending() > server.options().inboundBufferLimit()) {
      inboundOverflow();
      return;
    }
    inboundReceived++;
    inbound.submit(() -> processor.process(message, isPong, now));
  }

  private void inboundOverflow() {
    String reason = "Inbound buffer limit exceeded";
    emitError(AGError.resourceLimit("Socket " + id + " sent more than " + server.options().inboundBufferLimit()
        + " messages while its previous ones were still being handled"));
    destroy(CloseCodes.POLICY_VIOLATION, reason);
    outbound.closeNow(CloseCodes.POLICY_VIOLATION, reason);
  }


  // ---- events ----

  /** Emits {@code error} on the socket and as a warning on the server. */
  public void emitError(Throwable error) {
    if (listens("error")) {
      emit("error", new AGSocketEvent.Error(error));
    }
    serverContext.emitWarning(error);
  }

  /** The server as this socket sees it: the server's own, or the quiet one of a warm-up socket. */
  ServerContext serverContext() {
    return serverContext;
  }

  // ---- outbound ----

  /** Sends an event to the client's receiver {@code event} with no data. */
  public void transmit(String event) {
    transmit(event, null, false);
  }

  /** Sends an event with {@code data} to the client's receiver {@code event}. */
  public void transmit(String event, Object data) {
    transmit(event, data, true);
  }

  private void transmit(String event, Object data, boolean withData) {
    if (state != OPEN) {
      emitError(AGError.badConnection(
          "Socket transmit " + event + " event was aborted due to a bad connection", "connectAbort", null, null));
      return;
    }
    sendInOrder(eventPacket(event, data, withData, null));
  }

  /** Calls the client's procedure {@code event}; fails with TimeoutError after ackTimeout. */
  public CompletionStage<Object> invoke(String event, Object data) {
    return invoke(event, data, true, server.options().ackTimeout());
  }

  public CompletionStage<Object> invoke(String event) {
    return invoke(event, null, false, server.options().ackTimeout());
  }

  /** As {@link #invoke(String, Object)} with its own ack timeout. */
  public CompletionStage<Object> invoke(String event, Object data, long ackTimeoutMillis) {
    return invoke(event, data, true, ackTimeoutMillis);
  }

  private CompletionStage<Object> invoke(String event, Object data, boolean withData, long ackTimeout) {
    if (state != OPEN) {
      AGError error = AGError.badConnection(
          "Socket invoke " + event + " event was aborted due to a bad connection", "connectAbort", null, null);
      emitError(error);
      return CompletableFuture.failedFuture(error);
    }
    CompletableFuture<Object> result = new CompletableFuture<>();
    long cid = invokes.register(event, serverContext.scheduler().now() + ackTimeout, result);
    sendInOrder(eventPacket(event, data, withData, cid));
    return result;
  }

  private static Map<String, Object> eventPacket(String event, Object data, boolean withData, Long cid) {
    Map<String, Object> packet = new LinkedHashMap<>(4);
    packet.put("event", event);
    if (cid != null) {
      packet.put("cid", cid);
    }
    if (withData) {
      packet.put("data", data);
    }
    return packet;
  }

  /** Sends raw data, as the client's {@code raw} event sees it. */
  public void send(String data) {
    outbound.offer(data);
  }

  /** Sends raw binary data. */
  public void send(ByteBuffer data) {
    outbound.offer(data);
  }

  public void send(byte[] data) {
    send(ByteBuffer.wrap(data));
  }

  /** Encodes a packet with the server's codec and sends it (or adds it to the current batch). */
  public void sendObject(Object packet) {
    if (batcher.buffer(packet)) {
      return;
    }
    String encoded = serialize(packet);
    if (encoded != null) {
      outbound.offerPacket(encoded);
    }
  }


  /**
   * Sends the response {@code {"rid":rid,field:value}} (no field when it is null): straight to text
   * with the default codec, as a map through {@link #sendObject} with any other codec or into an
   * open batch.
   */
  void sendResponse(Object rid, String field, Object value) {
    // No batch open: the frame goes straight out. A batch being flushed still counts as open
    // until its frame is queued (SocketBatcher), so this frame cannot overtake it.
    if (server.codec() instanceof JsonCodec json && !batcher.isBuffering()) {
      String encoded;
      try {
        encoded = json.encodeResponse(rid, field, value);
      } catch (RuntimeException e) {
        emitError(e);
        return;
      }
      outbound.offerPacket(encoded);
      return;
    }
    Map<String, Object> packet = new LinkedHashMap<>(4);
    packet.put("rid", rid);
    if (field != null) {
      packet.put(field, value);
    }
    sendObject(packet);
  }

  /** Sends a frame that is already encoded (one publish shared by many sockets). */
  public void sendEncoded(String encoded) {
    outbound.offerPacket(encoded);
  }

  private String serialize(Object packet) {
    try {
      return server.codec().encode(packet);
    } catch (RuntimeException e) {
      emitError(e);
      return null;
    }
  }

  void sendPing() {
    if (state != CLOSED) {
      outbound.offer(serverContext.pingMessage());
    }
  }

  // ---- batching ----

  public void startBatch() {
    batcher.startBatch();
  }

  public void flushBatch() {
    batcher.flushBatch();
  }

  public void cancelBatch() {
    batcher.cancelBatch();
  }

  public void startBatching() {
    batcher.startBatching();
  }

  public void stopBatching() {
    batcher.stopBatching();
  }

  public void cancelBatching() {
    batcher.cancelBatching();
  }

  public boolean isBatching() {
    return batcher.isBatching();
  }

  private void startBatchOnHandshake() {
    if (server.options().batchOnHandshake()) {
      batcher.startTemporarily(server.options().batchOnHandshakeDuration());
    }
  }

  // ---- lifecycle ----

  /** Closes the connection with code 1000. */
  public void disconnect() {
    disconnect(CloseCodes.NORMAL, null);
  }

  /** Closes the connection with {@code code} and {@code reason} (sent after what is queued). */
  public void disconnect(int code, String reason) {
    if (state != CLOSED) {
      destroy(code, reason);
      outbound.close(code, reason);
    }
  }

  /** Drops the connection without a closing handshake. */
  public void terminate() {
    transport.terminate();
  }

  /**
   * The handshake was accepted: from pending to connected. False if the socket closed meanwhile.
   * The move between the server's maps is made under the state lock: a close that follows sees
   * the socket among the clients and removes it; one that came first leaves it pending-removed.
   */
  private boolean open() {
    synchronized (stateLock) {
      if (state != CONNECTING) {
        return false;
      }
      state = OPEN;
      server.socketOpened(this);
    }
    return true;
  }

  /** A connection the server will not take (it is closed): closed at once, with no events. */
  void refuse(int code, String reason) {
    synchronized (stateLock) {
      state = CLOSED;
    }
    releaseSlot();
    invokes.abortAll("connectAbort", code, reason);
    outbound.closeNow(code, reason);
  }

  private void emitConnect(Map<String, Object> status, AGError authError) {
    boolean isAuthenticated = Boolean.TRUE.equals(status.get("isAuthenticated"));
    long pingTimeout = server.options().pingTimeout();
    if (listens("connect")) {
      emit("connect", new AGSocketEvent.Connect(id, pingTimeout, isAuthenticated, authError));
    }
    serverContext.emit("connection", new AGConnectionEvent(this, id, pingTimeout, isAuthenticated, authError));
  }

  /**
   * Every close goes through here once: events, bookkeeping, stream cleanup. True for the call
   * that closed the socket, false when it was closed already.
   */
  boolean destroy(int code, String reason) {
    batcher.cancelBatching();
    State prevState;
    synchronized (stateLock) {
      prevState = state;
      state = CLOSED;
    }
    releaseSlot();
    if (prevState == CLOSED) {
      invokes.abortAll("connectAbort", code, reason);
      return false;
    }
    // Out of the server's maps before any event: an observer of the disconnection or closure
    // never finds the socket among the clients.
    server.socketClosed(this, code);
    if ((reason == null || reason.isEmpty()) && CloseCodes.errorReason(code) != null) {
      reason = CloseCodes.errorReason(code);
    }
    if (prevState == CONNECTING) {
      invokes.abortAll("connectAbort", code, reason);
      emit("connectAbort", new AGSocketEvent.ConnectAbort(code, reason));
      serverContext.emit("connectionAbort", new AGConnectionAbortEvent(this, code, reason));
    } else {
      invokes.abortAll("disconnect", code, reason);
      emit("disconnect", new AGSocketEvent.Disconnect(code, reason));
      serverContext.emit("disconnection", new AGDisconnectionEvent(this, code, reason));
    }
    emit("close", new AGSocketEvent.Close(code, reason));
    serverContext.emit("closure", new AGClosureEvent(this, code, reason));

    if (!CloseCodes.isIgnored(code)) {
      String message = CloseCodes.errorReason(code);
      if (message == null) {
        message = reason != null
            ? "Socket connection closed with status code " + code + " and reason: " + reason
            : "Socket connection closed with status code " + code;
      }
      emitError(AGError.socketProtocol(message, code));
    }
    subscriptions.unsubscribeAll();
    emit("end", new AGSocketEvent.End());
    if (server.options().socketStreamCleanupMode() == AGServerOptions.CleanupMode.KILL) {
      killAllStreams();
    } else {
      closeAllStreams();
    }
    return true;
  }

  /** Frees the connection's slot: every close passes here (destroy, refuse); only the first call counts. */
  private void releaseSlot() {
    if (slot != null) {
      slot.release();
    }
  }

  /**
   * Pings, pong timeout, handshake timeout and ack timeouts, checked by the server's sweep on its
   * timer thread. A ping only queues a frame; everything that runs application code (a close's
   * events and observers, callbacks of an invoke that timed out, the auth-expiry events) is
   * handed to the server's workers, so that a slow observer never delays another socket's timers.
   */
  void tick(long now) {
    if (state == CLOSED || closeQueued.get()) {
      return;
    }
    long drainBy = drainDeadline;
    if (drainBy != 0 && (owesNothing() || now >= drainBy)) {
      closeForDrain();
      return;
    }
    AGServerOptions options = server.options();
    if (!options.pingTimeoutDisabled()) {
      if (now >= nextPingAt) {
        nextPingAt = now + options.pingInterval();
        sendPing();
      }
      if (now - lastPongResetAt >= options.pingTimeout()) {
        closeLater(CloseCodes.PONG_TIMEOUT);
        return;
      }
    }
    if (state == CONNECTING && now >= handshakeDeadline) {
      closeLater(CloseCodes.HANDSHAKE_TIMEOUT);
      return;
    }
    if (invokes.anyDue(now) && expiryQueued.compareAndSet(false, true)) {
      serverContext.scheduler().execute(() -> {
        expiryQueued.set(false);
        invokes.expire(now);
      });
    }
    if (auth.activeExpiryDue(now)) {
      serverContext.scheduler().execute(() -> inbound.submit(auth::expireNow));
    }
  }

  // ---- drain ----

  /**
   * The server drains and this socket's turn came (on the timer thread: flags and a hand-off
   * only): it closes with 1001 as soon as it owes nothing (every message it received handled,
   * every RPC answered, every invoke of the server acknowledged), at the latest at {@code deadline}.
   * Until then it works as before: a message that arrives meanwhile is handled too.
   */
  void drainTurn(long deadline) {
    if (state == CLOSED || drainDeadline != 0) {
      return;
    }
    drainDeadline = deadline;
    if (owesNothing()) {
      closeForDrain();
    }
  }

  /** Closed, and its transport reported the connection gone: a drain is done with it. */
  boolean drained() {
    return state == CLOSED && connectionEnded;
  }

  /** Whether the socket is in its drain turn (for tests in this package). */
  boolean inDrainTurn() {
    return drainDeadline != 0;
  }

  private boolean owesNothing() {
    return inbound.pending() == 0 && owedAnswers.get() == 0 && invokes.isEmpty();
  }

  /** An AGRequest of this socket was answered (its response queued). */
  void answered() {
    if (owedAnswers.decrementAndGet() == 0) {
      drainStep();
    }
  }

  /**
   * After an answer or when the inbound queue runs dry: a socket in its drain turn that owes
   * nothing any more closes. Runs on the thread that answered or handled the message; the close
   * itself goes to the workers. The timer sweep checks the same every round, so a step missed
   * here (the check raced the hand-off) is only late by a round.
   */
  private void drainStep() {
    if (drainDeadline != 0 && state != CLOSED && owesNothing()) {
      closeForDrain();
    }
  }

  /**
   * Hands the drain close to the workers once. The worker looks again: work that arrived after
   * the check (a message handled meanwhile) puts the close back until the socket owes nothing or
   * its deadline passes. What is still in an open batch goes out before the close frame.
   */
  private void closeForDrain() {
    if (!closeQueued.compareAndSet(false, true)) {
      return;
    }
    serverContext.scheduler().execute(() -> {
      if (state == CLOSED) {
        return;
      }
      if (!owesNothing() && serverContext.scheduler().now() < drainDeadline) {
        closeQueued.set(false);
        drainStep();
        return;
      }
      batcher.stopBatching();
      batcher.flushBatch();
      disconnect(CloseCodes.GOING_AWAY, SHUTTING_DOWN);
    });
  }

  static final String SHUTTING_DOWN = "Server is shutting down";

  private void closeLater(int code) {
    if (closeQueued.compareAndSet(false, true)) {
      serverContext.scheduler().execute(() -> disconnect(code, null));
    }
  }

  /** The transport signals the end of a failed send or a slow reader. */
  private final class OutboundOwner implements OutboundQueue.Owner {
    @Override
    public void onSendFailure(Throwable error) {
      emitError(error);
      if (destroy(CloseCodes.ABNORMAL, error.toString()) && error instanceof AGError timeout
          && "TimeoutError".equals(timeout.name())) {
        figures.cutOff(ServerFigures.CutOff.SEND_TIMEOUT); // the send time limit (transport.Senders)
      }
      // The connection may still be open (a write that timed out, a container that refused one
      // frame): nothing will be sent on it any more, so it is dropped rather than left unmanaged.
      transport.terminate();
    }

    @Override
    public void onOverflow(long waitingChars) {
      String reason = "Outbound buffer limit exceeded";
      emitError(AGError.resourceLimit("Socket " + id + " did not read " + waitingChars
          + " characters waiting for it; the limit is " + server.options().outboundBufferLimit()));
      if (destroy(CloseCodes.POLICY_VIOLATION, reason)) {
        figures.cutOff(ServerFigures.CutOff.OUTBOUND_BUFFER);
      }
      outbound.closeNow(CloseCodes.POLICY_VIOLATION, reason);
    }
  }

  // ---- middleware ----

  // Per-socket action streams of the lines that have a setMiddleware function (as the original).
  private AGStream<AGAction> handshakeActions;
  private AGStream<AGAction> inboundRawActions;
  private AGStream<AGAction> inboundActions;
  private AGStream<AGAction> outboundActions;

  void openMiddlewareStreams(MiddlewareLines lines) {
    handshakeActions = lines.openStream(MiddlewareType.HANDSHAKE);
    inboundRawActions = lines.openStream(MiddlewareType.INBOUND_RAW);
    inboundActions = lines.openStream(MiddlewareType.INBOUND);
    outboundActions = lines.openStream(MiddlewareType.OUTBOUND);
  }

  private boolean hasMiddleware(MiddlewareType line) {
    return serverContext.middleware().has(line);
  }

  private CompletableFuture<Object> middleware(MiddlewareType line, AGAction action) {
    AGStream<AGAction> stream = switch (line) {
      case HANDSHAKE -> handshakeActions;
      case INBOUND_RAW -> inboundRawActions;
      case INBOUND -> inboundActions;
      default -> outboundActions;
    };
    // HANDSHAKE_SC reports blocks as server warnings, as the original (it passes no socket).
    return serverContext.middleware().process(line, action, stream, MiddlewareType.HANDSHAKE.equals(line) ? null : context);
  }

  private void closeMiddlewareStreams(boolean kill) {
    for (AGStream<AGAction> stream : java.util.Arrays.asList(handshakeActions, inboundRawActions, inboundActions,
        outboundActions)) {
      if (stream != null) {
        if (kill) {
          stream.kill();
        } else {
          stream.close();
        }
      }
    }
  }

  // ---- pub/sub ----

  /** The channels this socket is subscribed to, in subscription order. */
  public List<String> subscriptions() {
    return subscriptions.list();
  }

  public boolean isSubscribed(String channel) {
    return subscriptions.contains(channel);
  }

  /** A publish on a subscribed channel, from the broker: the shared frame goes out as it is. */
  @Override
  public void deliverPublish(String channel, Object data, String encoded) {
    deliver(channel, data, encoded, null);
  }

  /**
   * A publication of a history channel: as {@link #deliverPublish}, unless this socket subscribed
   * to the channel with {@code recover}: then it gets {@code {offset, epoch, data}}, after the
   * replay of what it missed.
   */
  @Override
  public void deliverPublication(String channel, Object data, String encoded, StreamPosition position) {
    io.agserver.core.RecoveringSubscription recovering = subscriptions.recovering(channel);
    if (recovering == null) {
      deliver(channel, data, encoded, null);
    } else if (state == OPEN) {
      recovering.offer(data, position);
    }
  }

  /** {@code position} null: the plain publish; else the publication as a recovering subscription gets it. */
  private void deliver(String channel, Object data, String encoded, StreamPosition position) {
    if (state != OPEN) {
      return;
    }
    if (!hasMiddleware(MiddlewareType.OUTBOUND)) {
      sendPublish(channel, data, encoded, position);
      return;
    }
    // PUBLISH_OUT decides per socket (on the data as published); decisions that come later keep
    // this socket's order.
    outboundOrder.submit(() -> {
      AGAction action = AGAction.builder(AGAction.PUBLISH_OUT).socket(this).channel(channel).data(data).build();
      return middleware(MiddlewareType.OUTBOUND, action).handle((newData, blocked) -> {
        if (blocked == null) {
          sendPublish(channel, newData, newData == data ? encoded : null, position);
        }
        return null;
      });
    });
  }

  /**
   * Queues a publication while the socket holds the channel
   * ({@link SocketSubscriptions#queueWhileSubscribed}: never after the answer to its
   * {@code #unsubscribe}), then sends it outside that lock.
   */
  private void sendPublish(String channel, Object data, String encoded, StreamPosition position) {
    // As sendResponse: a batch being flushed counts as open until its frame is queued.
    String frame = position == null && !batcher.isBuffering() ? encoded : null;
    if (frame == null) {
      Object shown = data;
      if (position != null) {
        Map<String, Object> positioned = new LinkedHashMap<>(4);
        positioned.put("offset", position.offset());
        positioned.put("epoch", position.epoch());
        positioned.put("data", data);
        shown = positioned;
      }
      Map<String, Object> packet = io.agserver.pubsub.AGSimpleBroker.publishPacket(channel, shown);
      if (batcher.isBuffering()) {
        // Into the open batch, after a look at the subscription but outside its lock: a batch's
        // flush holds the batch's lock into an overflow's close, which takes the subscriptions',
        // so the two are never taken the other way round. A publication racing an unsubscribe
        // may then still follow its answer in a batch (batching is off unless the application
        // or socketcluster.batchOnHandshake asks for it).
        if (subscriptions.contains(channel)) {
          figures.delivered();
          sendObject(packet);
        }
        return;
      }
      frame = serialize(packet); // before the lock; null when it failed (reported)
      if (frame == null) {
        return;
      }
    }
    if (subscriptions.queueWhileSubscribed(channel, outbound, frame)) {
      figures.delivered();
      outbound.sendQueued();
    }
  }

  /** Sends a transmit or invoke packet after the publishes still in outbound middleware. */
  private void sendInOrder(Map<String, Object> packet) {
    if (!hasMiddleware(MiddlewareType.OUTBOUND)) {
      sendObject(packet);
      return;
    }
    outboundOrder.submit(() -> {
      sendObject(packet);
      return null;
    });
  }

  /** Unsubscribes the client from every channel, telling it with {@code #kickOut}. */
  public CompletionStage<Void> kickOut() {
    return kickOut(subscriptions.list(), null);
  }

  /** Unsubscribes the client from {@code channel} with {@code #kickOut} (message may be null). */
  public CompletionStage<Void> kickOut(String channel, Object message) {
    return kickOut(channel == null ? subscriptions.list() : List.of(channel), message);
  }

  /** Unsubscribes the client from each channel; fails if it was not subscribed to one of them. */
  public CompletionStage<Void> kickOut(List<String> channels, Object message) {
    CompletableFuture<?>[] all = new CompletableFuture<?>[channels.size()];
    for (int i = 0; i < channels.size(); i++) {
      String channel = channels.get(i);
      Map<String, Object> data = new LinkedHashMap<>(4);
      data.put("channel", channel);
      if (message != null) {
        data.put("message", message);
      }
      // Out of the channel first: a publication queued before the #kickOut, none after it.
      all[i] = subscriptions.unsubscribe(channel).whenComplete((ok, notSubscribed) -> transmit("#kickOut", data))
          .toCompletableFuture();
    }
    return CompletableFuture.allOf(all);
  }

  // ---- back-pressure ----

  public int getBackpressure() {
    return Math.max(Math.max(getInboundBackpressure(), getOutboundBackpressure()),
        Math.max(getAllListenersBackpressure(),
            Math.max(getAllReceiversBackpressure(), getAllProceduresBackpressure())));
  }

  public int getInboundBackpressure() {
    return (int) (inboundReceived - inboundProcessed);
  }

  public int getOutboundBackpressure() {
    return outbound.backpressure();
  }

  /** Characters queued for the client and not yet written (for the server's figures). */
  long outboundWaitingCharacters() {
    return outbound.waitingCharacters();
  }

  /** Channels the socket is subscribed to (for the server's figures; no copy of the list). */
  int subscriptionCount() {
    return subscriptions.count();
  }

  // ---- receivers ----

  /** The stream of data the client transmits to {@code receiverName}. */
  public AGStream<Object> receiver(String receiverName) {
    return receivers.stream(receiverName);
  }

  public void closeReceiver(String receiverName) {
    receivers.close(receiverName);
  }

  public void closeAllReceivers() {
    receivers.closeAll();
  }

  public void killReceiver(String receiverName) {
    receivers.kill(receiverName);
  }

  public void killAllReceivers() {
    receivers.killAll();
  }

  public void killReceiverConsumer(long consumerId) {
    receivers.killConsumer(consumerId);
  }

  public int getReceiverBackpressure(String receiverName) {
    return receivers.getBackpressure(receiverName);
  }

  public int getAllReceiversBackpressure() {
    return receivers.getBackpressureAll();
  }

  public int getReceiverConsumerBackpressure(long consumerId) {
    return receivers.getConsumerBackpressure(consumerId);
  }

  public Optional<ConsumerStats> getReceiverConsumerStats(long consumerId) {
    return receivers.getConsumerStats(consumerId);
  }

  public List<ConsumerStats> getReceiverConsumerStatsList(String receiverName) {
    return receivers.getConsumerStatsList(receiverName);
  }

  public List<ConsumerStats> getAllReceiversConsumerStatsList() {
    return receivers.getConsumerStatsListAll();
  }

  public boolean hasReceiverConsumer(String receiverName, long consumerId) {
    return receivers.hasConsumer(receiverName, consumerId);
  }

  public boolean hasAnyReceiverConsumer(long consumerId) {
    return receivers.hasConsumerAll(consumerId);
  }

  // ---- procedures ----

  /** The stream of RPCs the client invokes on {@code procedureName}. */
  public AGStream<AGRequest> procedure(String procedureName) {
    return procedures.stream(procedureName);
  }

  public void closeProcedure(String procedureName) {
    procedures.close(procedureName);
  }

  public void closeAllProcedures() {
    procedures.closeAll();
  }

  public void killProcedure(String procedureName) {
    procedures.kill(procedureName);
  }

  public void killAllProcedures() {
    procedures.killAll();
  }

  public void killProcedureConsumer(long consumerId) {
    procedures.killConsumer(consumerId);
  }

  public int getProcedureBackpressure(String procedureName) {
    return procedures.getBackpressure(procedureName);
  }

  public int getAllProceduresBackpressure() {
    return procedures.getBackpressureAll();
  }

  public int getProcedureConsumerBackpressure(long consumerId) {
    return procedures.getConsumerBackpressure(consumerId);
  }

  public Optional<ConsumerStats> getProcedureConsumerStats(long consumerId) {
    return procedures.getConsumerStats(consumerId);
  }

  public List<ConsumerStats> getProcedureConsumerStatsList(String procedureName) {
    return procedures.getConsumerStatsList(procedureName);
  }

  public List<ConsumerStats> getAllProceduresConsumerStatsList() {
    return procedures.getConsumerStatsListAll();
  }

  public boolean hasProcedureConsumer(String procedureName, long consumerId) {
    return procedures.hasConsumer(procedureName, consumerId);
  }

  public boolean hasAnyProcedureConsumer(long consumerId) {
    return procedures.hasConsumerAll(consumerId);
  }

  // ---- all streams ----

  public void closeAllStreams() {
    closeMiddlewareStreams(false);
    closeAllReceivers();
    closeAllProcedures();
    closeAllListeners();
  }

  public void killAllStreams() {
    closeMiddlewareStreams(true);
    killAllReceivers();
    killAllProcedures();
    killAllListeners();
  }

  @Override
  public String toString() {
    return "AGServerSocket[" + id + ", " + state + "]";
  }

  /** The socket as its machinery and its transport see it. */
  private final class Context implements SocketContext, Connection {

    @Override
    public void deliverPositioned(String channel, Object data, StreamPosition position) {
      deliver(channel, data, null, position);
    }

    @Override
    public void sendAfterPublishes(Map<String, Object> packet) {
      sendInOrder(packet);
    }


    @Override
    public AGServerSocket socket() {
      return AGServerSocket.this;
    }

    @Override
    public ServerContext server() {
      return serverContext;
    }

    @Override
    public void emit(String name, AGSocketEvent event) {
      AGServerSocket.this.emit(name, event);
    }

    @Override
    public boolean listens(String name) {
      return AGServerSocket.this.listens(name);
    }

    @Override
    public void closeForAuthFailure(int code, String reason) {
      AGServerSocket.this.closeForAuthFailure(code, reason);
    }

    @Override
    public CompletableFuture<Object> middleware(MiddlewareType line, AGAction action) {
      return AGServerSocket.this.middleware(line, action);
    }

    @Override
    public void inboundProcessed() {
      inboundProcessed++;
    }

    @Override
    public void handleResponse(Object rid, Object error, Object data) {
      invokes.complete(rid, error, data);
    }

    @Override
    public void writeReceiver(String receiverName, Object data) {
      receivers.write(receiverName, data);
    }

    @Override
    public void writeProcedure(String procedureName, AGRequest request) {
      procedures.write(procedureName, request);
    }

    @Override
    public AGRequest request(Object cid, String procedure, Object data, boolean hasData) {
      owedAnswers.incrementAndGet();
      return new AGRequest(AGServerSocket.this, cid, procedure, data, hasData);
    }

    @Override
    public AGRequest call(Object cid, String procedure, Object data, boolean hasData, long startedNanos) {
      owedAnswers.incrementAndGet();
      return new AGRequest(AGServerSocket.this, cid, procedure, data, hasData, startedNanos);
    }

    @Override
    public boolean open() {
      return AGServerSocket.this.open();
    }

    @Override
    public void startBatchOnHandshake() {
      AGServerSocket.this.startBatchOnHandshake();
    }

    @Override
    public void emitConnect(Map<String, Object> status, AGError authError) {
      AGServerSocket.this.emitConnect(status, authError);
    }

    @Override
    public SocketAuth auth() {
      return auth;
    }

    @Override
    public SocketSubscriptions subscriptions() {
      return subscriptions;
    }

    @Override
    public String serialize(Object packet) {
      return AGServerSocket.this.serialize(packet);
    }

    // ---- Connection ----

    @Override
    public void receive(Object message) {
      figures.received(message);
      AGServerSocket.this.receive(message);
    }

    @Override
    public void closed(int code, String reason) {
      connectionEnded = true;
      destroy(code, reason);
    }

    @Override
    public void failed(Throwable error) {
      emitError(error);
    }
  }
}

