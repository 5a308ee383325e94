package io.agserver.core;

import io.agserver.middleware.MiddlewareType;
import io.agserver.AGServerSocket;
import io.agserver.AGAction;
import io.agserver.AGRequest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import io.agserver.protocol.AGError;
import io.agserver.protocol.Undefined;
import io.agserver.pubsub.ChannelFeatures;
import io.agserver.pubsub.HistoryOptions;
import io.agserver.pubsub.StreamPosition;
import java.util.List;

/**
 * The client's {@code #subscribe}, {@code #unsubscribe} and {@code #publish} packets, answered
 * as the original answers them: validation errors as InvalidActionError (a response only when
 * the client asked for one), broker failures as BrokerError, and the packet then handed to the
 * socket's {@code #...} procedure or receiver stream.
 */
final class PubSubPackets {

  // A completed future per call, not a shared constant: these stages leave through
  // InboundProcessor.process, and a shared one would carry a caller's obtrude to every other.
  // The paths that finish at once (blocked, invalid, before the handshake) are the rare ones.
  private static CompletableFuture<Void> done() {
    return CompletableFuture.completedFuture(null);
  }

  // Publishes a socket may have waiting for the broker's acknowledgement before its inbound
  // queue waits too (see publishAllowed).
  static final int PUBLISH_WINDOW = 64;

  private final SocketContext socket;
  private final ServerContext server;
  // This socket's publishes the broker has not acknowledged yet.
  private final java.util.concurrent.atomic.AtomicInteger unacknowledged = new java.util.concurrent.atomic.AtomicInteger();
  // The answer to this socket's latest publish: the next one is written after it. Read and
  // replaced on the socket's inbound queue only, one message at a time.
  private CompletableFuture<Void> lastAnswer = CompletableFuture.completedFuture(null);

  PubSubPackets(SocketContext socket) {
    this.socket = socket;
    this.server = socket.server();
  }

  CompletionStage<Void> subscribe(Object cid, Object data, boolean hasData, AGError authTokenExpiredError) {
    if (!(data instanceof Map<?, ?> map) || !(map.get("channel") instanceof String channel)) {
      return invalid("Subscribe channel name was malformatted", cid, data, hasData, "#subscribe");
    }
    Object subscriptionData = map.containsKey("data") ? map.get("data") : Undefined.INSTANCE;
    if (!socket.hasMiddleware(MiddlewareType.INBOUND)) {
      return subscribeAllowed(cid, map, channel, subscriptionData);
    }
    AGAction action = AGAction.builder(AGAction.SUBSCRIBE).socket(socket.socket()).channel(channel)
        .data(subscriptionData).authTokenExpiredError(authTokenExpiredError).build();
    return socket.middleware(MiddlewareType.INBOUND, action).handle((newData, blocked) -> {
      if (blocked != null) {
        answerBlocked(cid, "#subscribe", data, blocked);
        return done();
      }
      return subscribeAllowed(cid, map, channel, newData);
    }).thenCompose(next -> next);
  }

  private CompletionStage<Void> subscribeAllowed(Object cid, Map<?, ?> map, String channel, Object subscriptionData) {
    if (cid == null) {
      // The original subscribes only on a request; a bare #subscribe just reaches the receiver.
      socket.writeReceiver("#subscribe", subscriptionData);
      return done();
    }
    Map<String, Object> options = new LinkedHashMap<>();
    map.forEach((key, value) -> {
      if (!"channel".equals(key)) {
        options.put(String.valueOf(key), value);
      }
    });
    if (subscriptionData != Undefined.INSTANCE || options.containsKey("data")) {
      options.put("data", subscriptionData);
    }
    Map<String, Object> requestData = new LinkedHashMap<>(options);
    requestData.put("channel", channel);
    AGRequest request = socket.request(cid, "#subscribe", requestData, true);
    if (!AGServerSocket.OPEN.equals(socket.state())) {
      AGError error = AGError.invalidAction(
          "Cannot subscribe socket to a channel before it has completed the handshake");
      socket.emitError(error);
      request.error(error);
      socket.writeProcedure("#subscribe", request);
      return done();
    }
    Object recover = subscriptionData instanceof Map<?, ?> data && data.containsKey("recover") ? data.get("recover") : null;
    if (recover != null) {
      return recoveringSubscribe(request, channel, options, recover);
    }
    return socket.subscriptions().subscribe(channel, options).handle((ok, failure) -> {
      answerSubscribe(request, channel, failure);
      return null;
    });
  }

  private void answerSubscribe(AGRequest request, String channel, Throwable failure) {
    if (failure != null) {
      AGError error = AGError.broker("Failed to subscribe socket to the " + channel + " channel - "
          + SocketSubscriptions.describe(failure));
      socket.emitError(error);
      request.error(error);
    } else {
      request.end();
    }
    socket.writeProcedure("#subscribe", request);
  }

  /**
   * {@code #subscribe} with {@code data: {recover: position}} on a history channel: live
   * publications wait from the start; once the subscription is confirmed the history after
   * {@code position} is read, the subscription acknowledged, and the replay sent before them
   * (see {@link RecoveringSubscription}). {@code position} {@code {}} (nothing received yet)
   * replays nothing and tells the client where the channel is.
   */
  private CompletionStage<Void> recoveringSubscribe(AGRequest request, String channel, Map<String, Object> options,
      Object recover) {
    HistoryOptions history = server.exchange().historyOf(channel);
    StreamPosition since = ChannelReads.position(recover);
    AGError refused = null;
    if (history == null) {
      refused = AGError.invalidAction("The " + channel + " channel keeps no history: a subscription to it cannot recover");
    } else if (since == null && !(recover instanceof Map<?, ?> empty && empty.isEmpty())) {
      refused = AGError.invalidAction("recover must be a position {offset, epoch}, or {} before the first publication");
    }
    if (refused != null) {
      socket.emitError(refused);
      request.error(refused);
      socket.writeProcedure("#subscribe", request);
      return done();
    }
    RecoveringSubscription recovering = socket.subscriptions().startRecovering(channel, Math.max(100, history.size()));
    java.util.concurrent.atomic.AtomicBoolean answered = new java.util.concurrent.atomic.AtomicBoolean();
    // Without a position only the channel's position is wanted, not what it keeps.
    int limit = since == null ? 1 : 0;
    return socket.subscriptions().subscribe(channel, options).thenCompose(subscribed ->
        server.exchange().history(channel, since, limit).handle((page, failure) -> {
          if (failure == null) {
            answered.set(true);
            answerSubscribe(request, channel, null);
            recovering.start(page, since != null);
            return CompletableFuture.<Void>completedFuture(null);
          }
          if (Failures.unwrap(failure) instanceof AGError error && "UnrecoverablePositionError".equals(error.name())) {
            // The client's position is lost to it: it is told so with the channel's position now.
            return server.exchange().history(channel, null, 1).thenAccept(latest -> {
              answered.set(true);
              answerSubscribe(request, channel, null);
              recovering.start(List.of(), latest.position(), false);
            });
          }
          return CompletableFuture.<Void>failedFuture(failure);
        }).thenCompose(next -> next)).handle((ok, failure) -> {
          if (failure == null) {
            return null;
          }
          if (answered.get()) {
            // Acknowledged already, then the replay failed: the client is told it is out.
            socket.emitError(Failures.unwrap(failure));
            socket.socket().kickOut(channel, "The recovery of the " + channel + " channel failed");
            return null;
          }
          // Subscribed without a replay would lose publications silently: the subscribe fails.
          if (socket.subscriptions().contains(channel)) {
            socket.subscriptions().unsubscribe(channel);
          }
          answerSubscribe(request, channel, failure);
          return null;
        });
  }

  CompletionStage<Void> unsubscribe(Object cid, Object data, boolean hasData) {
    if (!(data instanceof String channel)) {
      return invalid("Unsubscribe channel name was malformatted", cid, data, hasData, "#unsubscribe");
    }
    return socket.subscriptions().unsubscribe(channel).handle((ok, failure) -> {
      AGError error = failure == null ? null : AGError.broker("Failed to unsubscribe socket from the "
          + channel + " channel - " + SocketSubscriptions.describe(failure));
      if (error != null) {
        socket.emitError(error);
      }
      if (cid == null) {
        socket.writeReceiver("#unsubscribe", channel);
        return null;
      }
      AGRequest request = socket.request(cid, "#unsubscribe", channel, true);
      if (error != null) {
        request.error(error);
      } else {
        request.end();
      }
      socket.writeProcedure("#unsubscribe", request);
      return null;
    });
  }

  CompletionStage<Void> publish(Object cid, Object data, boolean hasData, AGError authTokenExpiredError) {
    if (!server.options().allowClientPublish()) {
      return invalid("Client publish feature is disabled", cid, data, hasData, null);
    }
    if (!(data instanceof Map<?, ?> map) || !(map.get("channel") instanceof String channel)) {
      return invalid("Publish channel name was malformatted", cid, data, hasData, null);
    }
    Object published = map.containsKey("data") ? map.get("data") : Undefined.INSTANCE;
    if (channel.startsWith(ChannelFeatures.PRESENCE_PREFIX) && server.exchange().channelFeatures() != null
        && server.exchange().channelFeatures().tracksPresence(channel.substring(ChannelFeatures.PRESENCE_PREFIX.length()))) {
      return invalid("The " + channel + " channel is the server's: its presence notifications", cid, data, hasData,
          "#publish");
    }
    if (!socket.hasMiddleware(MiddlewareType.INBOUND)) {
      return publishAllowed(cid, data, channel, published);
    }
    AGAction action = AGAction.builder(AGAction.PUBLISH_IN).socket(socket.socket()).channel(channel)
        .data(published).authTokenExpiredError(authTokenExpiredError).build();
    return socket.middleware(MiddlewareType.INBOUND, action).handle((newData, blocked) -> {
      if (blocked != null) {
        answerBlocked(cid, "#publish", data, blocked);
        return done();
      }
      Object requestData = data;
      if (newData != published) {
        Map<String, Object> copy = new LinkedHashMap<>();
        map.forEach((key, value) -> copy.put(String.valueOf(key), value));
        copy.put("data", newData);
        requestData = copy;
      }
      return publishAllowed(cid, requestData, channel, newData);
    }).thenCompose(next -> next);
  }

  /** A blocked RPC gets the middleware's error; a blocked transmit is dropped. */
  private void answerBlocked(Object cid, String event, Object data, Throwable blocked) {
    if (cid != null) {
      socket.request(cid, event, data, true).error(io.agserver.core.Failures.unwrap(blocked));
    }
  }

  /**
   * Hands the publish to the broker and lets the socket's next message in at once: the broker has
   * taken the publish in order when invokePublish returns, and its acknowledgement (a Redis round
   * trip with the Redis engine) answers this one alone, so a client's publishes are not held to
   * one per round trip. At most {@link #PUBLISH_WINDOW} of a socket's publishes wait for the
   * broker; the next one holds the socket's inbound queue until its own acknowledgement, so a
   * client that publishes faster than the broker takes fills its inbound queue, bounded by
   * {@code inboundBufferLimit}, and not the broker's.
   */
  private CompletionStage<Void> publishAllowed(Object cid, Object data, String channel, Object published) {
    int waiting = unacknowledged.incrementAndGet();
    CompletableFuture<Void> acknowledged;
    try {
      acknowledged = server.exchange().invokePublish(channel, published).toCompletableFuture();
    } catch (RuntimeException e) {
      acknowledged = CompletableFuture.failedFuture(e);
    }
    // Answers leave in the order of the publishes, whatever thread each acknowledgement arrives on.
    CompletableFuture<Void> previous = lastAnswer;
    CompletableFuture<Void> ack = acknowledged;
    CompletableFuture<Void> answered = previous.isDone()
        ? ack.handle((ok, failure) -> answer(failure, cid, data, published))
        : previous.thenCombine(ack.handle((ok, failure) -> failure), (none, failure) -> answer(failure, cid, data, published));
    lastAnswer = answered;
    // A publish the broker answered at once (the memory engine) never holds the queue.
    if (waiting > PUBLISH_WINDOW && !answered.isDone()) {
      return answered;
    }
    return done();
  }

  private Void answer(Throwable failure, Object cid, Object data, Object published) {
    unacknowledged.decrementAndGet();
    Throwable error = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    if (error != null) {
      socket.emitError(error);
    }
    if (cid == null) {
      socket.writeReceiver("#publish", published);
      return null;
    }
    AGRequest request = socket.request(cid, "#publish", data, true);
    if (error != null) {
      request.error(error);
    } else {
      request.end();
    }
    socket.writeProcedure("#publish", request);
    return null;
  }

  /** A malformed packet: an error event, and an error response when the client asked for one. */
  private CompletionStage<Void> invalid(String message, Object cid, Object data, boolean hasData, String event) {
    AGError error = AGError.invalidAction(message);
    socket.emitError(error);
    if (cid != null) {
      socket.request(cid, event, data, hasData).error(error);
    }
    return done();
  }
}
