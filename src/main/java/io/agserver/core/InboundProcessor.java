package io.agserver.core;

import io.agserver.middleware.MiddlewareType;
import io.agserver.AGServerSocket;
import io.agserver.AGAction;
import io.agserver.AGRequest;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import io.agserver.event.AGSocketEvent;
import io.agserver.core.Failures;
import io.agserver.protocol.AGError;
import io.agserver.protocol.CloseCodes;
import io.agserver.protocol.Errors;
import io.agserver.protocol.Undefined;

/**
 * What one socket does with each inbound message, in the original's order: decode, batches
 * packet by packet, {@code #handshake}, the strict-handshake rule, responses to server invokes,
 * transmits and invokes to the socket's receiver and procedure streams, and raw messages.
 * Runs on the socket's serial inbound queue: one message at a time, in arrival order.
 */
public final class InboundProcessor {

  /** Completed, and never handed to application code: a step that finished at once. */
  static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);
  private static final CompletableFuture<Object> DONE_NULL = CompletableFuture.completedFuture(null);

  private final SocketContext socket;
  private final ServerContext server;
  private final PubSubPackets pubSub;
  private final ChannelReads reads;
  /** Null without {@code socketcluster.rateLimit}: then no message pays for it. */
  private final InboundRateLimit rateLimit;

  public InboundProcessor(SocketContext socket) {
    this.socket = socket;
    this.server = socket.server();
    this.pubSub = new PubSubPackets(socket);
    this.reads = new ChannelReads(socket);
    this.rateLimit = InboundRateLimit.of(socket);
  }

  /**
   * Handles one message that arrived at {@code arrivedAt} (the server's clock when the transport
   * handed it over: the rate limit counts arrivals, not how long earlier messages held the queue).
   * The rate limit comes first: a message without a token reaches no middleware; pongs take none.
   */
  public CompletionStage<Void> process(Object message, boolean isPong, long arrivedAt) {
    if (rateLimit != null && !isPong && !rateLimit.admits(arrivedAt)) {
      rateLimit.refuseMessage(message);
      return DONE;
    }
    if (!socket.hasMiddleware(MiddlewareType.INBOUND_RAW)) {
      return processMessage(message, isPong, arrivedAt);
    }
    // Inbound raw middleware sees every message first, even before the strict-handshake rule.
    AGAction action = AGAction.builder(AGAction.MESSAGE).socket(socket.socket()).data(message).build();
    return socket.middleware(MiddlewareType.INBOUND_RAW, action).handle((newMessage, blocked) -> {
      if (blocked != null) {
        socket.inboundProcessed();
        return DONE;
      }
      return processMessage(newMessage, server.pongMessage().equals(newMessage), arrivedAt);
    }).thenCompose(next -> next);
  }

  private CompletionStage<Void> processMessage(Object message, boolean isPong, long arrivedAt) {
    if (socket.listens("message")) {
      socket.emit("message", new AGSocketEvent.Message(message));
    }
    socket.inboundProcessed();
    if (socket.state() == AGServerSocket.CLOSED) {
      return DONE;
    }
    if (isPong) {
      if (server.options().strictHandshake() && socket.state() == AGServerSocket.CONNECTING) {
        socket.disconnect(CloseCodes.STRICT_HANDSHAKE, null);
      } else {
        socket.auth().checkExpiry();
      }
      return DONE;
    }
    Object packet = message instanceof ByteBuffer bytes
        ? server.codec().decode(bytes.duplicate())
        : server.codec().decode(String.valueOf(message));
    if (packet instanceof List<?> batch) {
      return processBatch(batch, 0, message, arrivedAt);
    }
    return processPacket(packet, message);
  }

  /** A batch packet by packet; with a rate limit, each packet after the first takes a token too. */
  private CompletionStage<Void> processBatch(List<?> batch, int from, Object message, long arrivedAt) {
    for (int i = from; i < batch.size(); i++) {
      if (i > 0 && rateLimit != null && !rateLimit.admits(arrivedAt)) {
        rateLimit.refusePacket(batch.get(i));
        continue;
      }
      CompletionStage<Void> step = processPacket(batch.get(i), message);
      if (step != DONE && !step.toCompletableFuture().isDone()) {
        int next = i + 1;
        return step.thenCompose(ignored -> processBatch(batch, next, message, arrivedAt));
      }
    }
    return DONE;
  }

  private CompletionStage<Void> processPacket(Object packet, Object message) {
    if (socket.state() == AGServerSocket.CLOSED) {
      return DONE;
    }
    if (packet instanceof Map<?, ?> map && map.get("event") instanceof String event) {
      return processEvent(map, event);
    }
    if (strictHandshakeViolated()) {
      return DONE;
    }
    if (packet instanceof Map<?, ?> map && map.get("rid") instanceof Number rid) {
      socket.handleResponse(rid, map.get("error"), map.get("data"));
      return DONE;
    }
    if (socket.listens("raw")) {
      socket.emit("raw", new AGSocketEvent.Raw(message));
    }
    return DONE;
  }

  private CompletionStage<Void> processEvent(Map<?, ?> packet, String event) {
    Object cid = packet.get("cid");
    boolean isRpc = cid instanceof Number;
    boolean hasData = packet.containsKey("data");
    Object data = packet.get("data");

    if (event.equals("#handshake")) {
      if (!isRpc) {
        socket.emitError(AGError.invalidAction("Handshake request was malformatted"));
        socket.disconnect(CloseCodes.HANDSHAKE_REJECTED, null);
        return DONE;
      }
      AGRequest request = socket.request(cid, event, data, hasData);
      return then(processHandshake(request), () -> socket.writeProcedure(event, request));
    }
    if (strictHandshakeViolated()) {
      return DONE;
    }
    if (event.equals("#authenticate")) {
      if (!isRpc) {
        socket.emitError(AGError.invalidAction("Authenticate request was malformatted"));
        socket.disconnect(CloseCodes.HANDSHAKE_REJECTED, null);
        return DONE;
      }
      AGRequest request = socket.request(cid, event, data, hasData);
      return then(socket.auth().processAuthenticateRequest(request), () -> socket.writeProcedure(event, request));
    }
    if (event.equals("#removeAuthToken")) {
      socket.auth().deauthenticateSelf();
      socket.writeReceiver(event, hasData ? data : Undefined.INSTANCE);
      return DONE;
    }
    // An expired token is dropped before the event is handled; the inbound middleware (issue 5)
    // gets this error on its action.
    AGError authTokenExpiredError = socket.auth().processAuthTokenExpiry();
    switch (event) {
      case "#subscribe":
        return pubSub.subscribe(isRpc ? cid : null, data, hasData, authTokenExpiredError);
      case "#unsubscribe":
        return pubSub.unsubscribe(isRpc ? cid : null, data, hasData);
      case "#publish":
        return pubSub.publish(isRpc ? cid : null, data, hasData, authTokenExpiredError);
      case "#history":
        return reads.history(isRpc ? cid : null, data, hasData, authTokenExpiredError);
      case "#presence":
        return reads.presence(isRpc ? cid : null, data, hasData, authTokenExpiredError);
      default:
        break;
    }
    // An application procedure's call is timed from here, its inbound middleware included.
    long started = isRpc ? System.nanoTime() : 0;
    if (!socket.hasMiddleware(MiddlewareType.INBOUND)) {
      deliver(event, isRpc ? cid : null, hasData ? data : Undefined.INSTANCE, null, started);
      return DONE;
    }
    AGAction action = (isRpc
        ? AGAction.builder(AGAction.INVOKE).procedure(event)
        : AGAction.builder(AGAction.TRANSMIT).receiver(event))
        .socket(socket.socket()).data(hasData ? data : Undefined.INSTANCE)
        .authTokenExpiredError(authTokenExpiredError).build();
    return socket.middleware(MiddlewareType.INBOUND, action).handle((newData, blocked) -> {
      deliver(event, isRpc ? cid : null, newData, blocked, started);
      return null;
    });
  }

  /** An invoke to its procedure stream (or its error answer), a transmit to its receiver. */
  private void deliver(String event, Object cid, Object data, Throwable blocked, long startedNanos) {
    if (cid != null) {
      boolean hasData = data != Undefined.INSTANCE;
      AGRequest request = socket.call(cid, event, hasData ? data : null, hasData, startedNanos);
      if (blocked != null) {
        request.error(Failures.unwrap(blocked));
        return;
      }
      socket.writeProcedure(event, request);
    } else if (blocked == null) {
      socket.writeReceiver(event, data);
    }
  }


  private CompletionStage<Void> processHandshake(AGRequest request) {
    if (!AGServerSocket.CONNECTING.equals(socket.state())) {
      // A repeated #handshake gets its answer again; the socket is not counted twice.
      request.end(status(null));
      return DONE;
    }
    SocketAuth auth = socket.auth();
    return auth.validateAuthToken(SocketAuth.handshakeToken(request.data()))
        .thenCompose(info -> handshakeMiddleware(info).handle((ok, blocked) -> {
          if (blocked != null) {
            rejectHandshake(request, Failures.unwrap(blocked));
            return DONE;
          }
          return auth.authenticateHandshake(info).thenAccept(result -> completeHandshake(request, result));
        }).thenCompose(next -> next));
  }

  /** HANDSHAKE_SC, with the verified token information as the action's data. */
  private CompletionStage<Object> handshakeMiddleware(SocketAuth.AuthInfo info) {
    if (!socket.hasMiddleware(MiddlewareType.HANDSHAKE)) {
      return DONE_NULL;
    }
    Map<String, Object> authInfo = new LinkedHashMap<>(4);
    authInfo.put("signedAuthToken", info.signedAuthToken());
    authInfo.put("authTokenError", info.authTokenError());
    authInfo.put("authToken", info.authToken());
    authInfo.put("authState", info.authState());
    AGAction action = AGAction.builder(AGAction.HANDSHAKE_SC).socket(socket.socket()).data(authInfo).build();
    return socket.middleware(MiddlewareType.HANDSHAKE, action);
  }

  /** A blocked #handshake: answered with the error, closed with its statusCode (4008 by default). */
  private void rejectHandshake(AGRequest request, Throwable error) {
    int statusCode = CloseCodes.HANDSHAKE_REJECTED;
    if (error instanceof AGError ag) {
      if (ag.get("statusCode") instanceof Number code) {
        statusCode = code.intValue();
      } else {
        ag.with("statusCode", statusCode);
      }
    }
    request.error(error);
    socket.disconnect(statusCode, null);
  }

  private void completeHandshake(AGRequest request, SocketAuth.HandshakeAuth result) {
    if (!AGServerSocket.CONNECTING.equals(socket.state())) {
      return; // closed while its token was being verified
    }
    Map<String, Object> status = status(result.authError());
    if (!socket.open()) {
      return;
    }
    request.end(status);
    socket.startBatchOnHandshake();
    if (result.removeToken()) {
      // After the answer, as the original's deauthenticate() queues it.
      socket.auth().transmitRemoveAuthToken();
    }
    socket.emitConnect(status, result.authError());
    if (Boolean.TRUE.equals(status.get("isAuthenticated"))) {
      // After 'connect' and 'connection', so that their handlers can listen for these.
      socket.auth().triggerAuthenticationEvents(result.oldAuthState());
    }
  }

  /** The handshake's answer: id, pingTimeout, authError (only for a bad token sent), isAuthenticated. */
  private Map<String, Object> status(AGError authError) {
    Map<String, Object> status = new LinkedHashMap<>(4);
    status.put("id", socket.id());
    status.put("pingTimeout", server.options().pingTimeout());
    if (authError != null) {
      status.put("authError", Errors.dehydrate(authError));
    }
    status.put("isAuthenticated", socket.socket().authToken() != null);
    return status;
  }

  /** {@code next} after {@code step}: at once when the step is already done. */
  private static CompletionStage<Void> then(CompletionStage<Void> step, Runnable next) {
    CompletableFuture<Void> future = step.toCompletableFuture();
    if (future.isDone() && !future.isCompletedExceptionally()) {
      next.run();
      return DONE;
    }
    return step.thenRun(next);
  }

  /** Strict handshake: anything but #handshake before it closes the socket with 4009. */
  private boolean strictHandshakeViolated() {
    if (server.options().strictHandshake() && AGServerSocket.CONNECTING.equals(socket.state())) {
      socket.disconnect(CloseCodes.STRICT_HANDSHAKE, null);
      return true;
    }
    return false;
  }
}
