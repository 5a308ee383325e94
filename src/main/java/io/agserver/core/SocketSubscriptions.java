package io.agserver.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import io.agserver.event.AGSocketEvent;
import io.agserver.event.AGSubscriptionEvent;
import io.agserver.event.AGUnsubscriptionEvent;
import io.agserver.protocol.AGError;
import io.agserver.pubsub.BrokerEngine;

/**
 * The channels one socket is subscribed to, kept in step with the broker: the socket's view and
 * the broker's agree after every subscribe, unsubscribe and disconnect, in any interleaving.
 */
public final class SocketSubscriptions {

  private final SocketContext socket;
  private final ServerContext server;
  // Insertion order, as Object.keys gives the original's channel names.
  private final Map<String, Boolean> channels = new LinkedHashMap<>();
  private boolean closed;
  // The channels subscribed with {recover: position}; null until the first one (most sockets
  // never have any). Read on delivery threads, changed on the socket's inbound queue.
  private volatile java.util.concurrent.ConcurrentHashMap<String, RecoveringSubscription> recovering;
  // This socket's entries in the presence of its channels, as they joined (a leave names the same
  // user). Guarded by this; null until the first (most sockets never join one).
  private Map<String, io.agserver.pubsub.PresenceMember> members;

  public SocketSubscriptions(SocketContext socket) {
    this.socket = socket;
    this.server = socket.server();
  }

  public synchronized List<String> list() {
    return new ArrayList<>(channels.keySet());
  }

  public synchronized int count() {
    return channels.size();
  }

  public synchronized boolean contains(String channel) {
    return channels.containsKey(channel);
  }

  /**
   * Queues a publication's frame on {@code outbound} only while the socket holds
   * {@code channel}, under the lock its unsubscribe takes the channel out with, which it does
   * before its answer is queued. A delivery walks a channel's subscribers without a lock and may
   * have found this socket just before it unsubscribed: queued here, its publication goes out
   * before the unsubscribe's answer or not at all, as from the original, on one thread. Only
   * queued ({@link OutboundQueue#queuePacket}): the caller sends it after, outside the lock. What
   * is not told apart: a client that subscribes again at once, before that delivery got here,
   * gets the publication after the answer, as a publication of its new subscription.
   *
   * @return whether it was queued
   */
  public synchronized boolean queueWhileSubscribed(String channel, OutboundQueue outbound, String frame) {
    return !closed && channels.containsKey(channel) && outbound.queuePacket(frame);
  }

  /** The socket's recovering subscription to the channel, or null. */
  public RecoveringSubscription recovering(String channel) {
    java.util.concurrent.ConcurrentHashMap<String, RecoveringSubscription> map = recovering;
    return map == null ? null : map.get(channel);
  }

  /** From now on the channel's publications wait for the replay (see RecoveringSubscription). */
  RecoveringSubscription startRecovering(String channel, int limit) {
    java.util.concurrent.ConcurrentHashMap<String, RecoveringSubscription> map = recovering;
    if (map == null) {
      synchronized (this) {
        if (recovering == null) {
          recovering = new java.util.concurrent.ConcurrentHashMap<>(4);
        }
        map = recovering;
      }
    }
    RecoveringSubscription subscription = new RecoveringSubscription(socket, channel, limit);
    map.put(channel, subscription);
    return subscription;
  }

  private void stopRecovering(String channel) {
    java.util.concurrent.ConcurrentHashMap<String, RecoveringSubscription> map = recovering;
    if (map != null) {
      map.remove(channel);
    }
  }

  /** Subscribes; fails with InvalidActionError at the channel limit (even for a channel already held). */
  public CompletionStage<Void> subscribe(String channel, Map<String, Object> subscriptionOptions) {
    Integer limit = server.options().socketChannelLimit();
    boolean added;
    synchronized (this) {
      if (closed) {
        return CompletableFuture.failedFuture(
            AGError.invalidAction("Socket " + socket.id() + " is closed"));
      }
      if (limit != null && limit > 0 && channels.size() >= limit) {
        return CompletableFuture.failedFuture(AGError.invalidAction("Socket " + socket.id()
            + " tried to exceed the channel subscription limit of " + limit));
      }
      added = channels.putIfAbsent(channel, Boolean.TRUE) == null;
    }
    BrokerEngine broker = server.broker();
    CompletionStage<Void> brokered;
    try {
      brokered = broker.subscribeSocket(socket.socket(), channel);
    } catch (RuntimeException e) {
      brokered = CompletableFuture.failedFuture(e);
    }
    if (added && tracksPresence(channel)) {
      // Listed in the channel's presence before the subscribe is acknowledged.
      io.agserver.pubsub.PresenceMember member = member();
      brokered = brokered.thenCompose(ok -> broker.joinPresence(channel, member, presenceTtl())
          .thenRun(() -> {
            // Said before it can be taken back, so that no leave goes out ahead of its join.
            notifyPresence(channel, "join", member);
            joined(channel, member);
            if (!stillHeld(channel)) {
              // Unsubscribed or closed while joining: whichever of this and the release takes
              // the entry back says the leave.
              leave(channel);
            }
          }));
    }
    return brokered.handle((ok, error) -> {
      if (error != null) {
        if (added) {
          synchronized (this) {
            channels.remove(channel);
          }
          stopRecovering(channel);
          // An engine may keep a subscriber whose subscription it could not confirm (the Redis
          // engine renews it once Redis answers): this socket no longer wants it.
          broker.unsubscribeSocket(socket.socket(), channel);
        }
        throw error instanceof RuntimeException runtime ? runtime : new java.util.concurrent.CompletionException(error);
      }
      if (!stillHeld(channel)) {
        // The socket closed while the broker was subscribing: take the broker's entry back.
        broker.unsubscribeSocket(socket.socket(), channel);
        return null;
      }
      socket.emit("subscribe", new AGSocketEvent.Subscribe(channel, subscriptionOptions));
      server.emit("subscription", new AGSubscriptionEvent(socket.socket(), channel, subscriptionOptions));
      return null;
    });
  }

  private synchronized boolean stillHeld(String channel) {
    return !closed && channels.containsKey(channel);
  }

  /** Unsubscribes; fails with InvalidActionError when the socket is not subscribed to it. */
  public CompletionStage<Void> unsubscribe(String channel) {
    synchronized (this) {
      if (!channels.containsKey(channel)) {
        return CompletableFuture.failedFuture(AGError.invalidAction("Socket " + socket.id()
            + " tried to unsubscribe from a channel which it is not subscribed to"));
      }
    }
    return release(channel);
  }

  private CompletionStage<Void> release(String channel) {
    CompletionStage<Void> brokered;
    try {
      brokered = server.broker().unsubscribeSocket(socket.socket(), channel);
    } catch (RuntimeException e) {
      brokered = CompletableFuture.failedFuture(e);
    }
    return brokered.handle((ok, error) -> {
      if (error != null) {
        // As the original: the broker's failure is reported, the unsubscribe itself does not fail.
        socket.emitError(AGError.broker("Failed to unsubscribe socket from the " + channel + " channel - "
            + describe(error)));
        return null;
      }
      boolean removed;
      synchronized (this) {
        removed = channels.remove(channel) != null;
      }
      stopRecovering(channel);
      if (removed) {
        leave(channel);
      }
      if (removed) {
        socket.emit("unsubscribe", new AGSocketEvent.Unsubscribe(channel));
        server.emit("unsubscription", new AGUnsubscriptionEvent(socket.socket(), channel));
      }
      return null;
    });
  }

  /** On disconnect: leave every channel, with its events; no subscribe succeeds afterwards. */
  public CompletionStage<Void> unsubscribeAll() {
    List<String> held;
    synchronized (this) {
      closed = true;
      held = new ArrayList<>(channels.keySet());
    }
    if (held.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<?>[] all = new CompletableFuture<?>[held.size()];
    for (int i = 0; i < held.size(); i++) {
      all[i] = release(held.get(i)).toCompletableFuture();
    }
    return CompletableFuture.allOf(all);
  }

  private synchronized void joined(String channel, io.agserver.pubsub.PresenceMember member) {
    if (members == null) {
      members = new java.util.HashMap<>(4);
    }
    members.put(channel, member);
  }

  /** Takes this socket out of the channel's presence, if it is in it, and says so. */
  private void leave(String channel) {
    io.agserver.pubsub.PresenceMember member = left(channel);
    if (member == null) {
      return;
    }
    server.broker().leavePresence(channel, socket.id()).whenComplete((ok, failure) -> {
      if (failure != null) {
        server.emitWarning(AGError.broker("Failed to remove socket " + socket.id() + " from the presence of the "
            + channel + " channel - " + describe(failure)));
      } else {
        notifyPresence(channel, "leave", member);
      }
    });
  }

  private synchronized io.agserver.pubsub.PresenceMember left(String channel) {
    return members == null ? null : members.remove(channel);
  }

  private boolean tracksPresence(String channel) {
    io.agserver.pubsub.ChannelFeatures features = server.exchange().channelFeatures();
    return features != null && features.tracksPresence(channel);
  }

  private java.time.Duration presenceTtl() {
    return server.exchange().channelFeatures().presenceTtl();
  }

  /** This socket as a presence member: its id, and its token's user claim (null without). */
  private io.agserver.pubsub.PresenceMember member() {
    Map<String, Object> token = socket.socket().authToken();
    String claim = server.exchange().channelFeatures().userClaim();
    return new io.agserver.pubsub.PresenceMember(socket.id(), token == null ? null : token.get(claim));
  }

  /** {@code {join: {id, user}}} or {@code {leave: ...}} on the channel's presence notifications. */
  private void notifyPresence(String channel, String what, io.agserver.pubsub.PresenceMember member) {
    Map<String, Object> who = new java.util.LinkedHashMap<>(4);
    who.put("id", member.id());
    who.put("user", member.user());
    server.exchange().transmitPublish(io.agserver.pubsub.ChannelFeatures.PRESENCE_PREFIX + channel, Map.of(what, who));
  }

  /** What the original's template strings print for an error: "Name: message". */
  static String describe(Throwable error) {
    Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
        ? error.getCause() : error;
    return cause instanceof AGError ag ? ag.name() + ": " + ag.getMessage() : String.valueOf(cause.getMessage());
  }
}
