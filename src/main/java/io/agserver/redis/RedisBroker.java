package io.agserver.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.agserver.codec.AGCodec;
import io.agserver.core.Failures;
import io.agserver.codec.JsonCodec;
import io.agserver.config.RedisOptions;
import io.agserver.protocol.AGError;
import io.agserver.protocol.Undefined;
import io.agserver.pubsub.AGSimpleBroker;
import io.agserver.pubsub.AGSubscriber;
import io.agserver.pubsub.BrokerEngine;
import io.lettuce.core.resource.ClientResources;

/**
 * Channels across instances on Redis ({@code socketcluster.brokerEngine=redis}).
 *
 * <p>A publish is encoded once, on the instance where it enters, and sent to Redis as one
 * PUBLISH (SPUBLISH in a cluster) of the {@code #publish} frame itself; every instance with local
 * subscribers of the channel, this one included, receives that frame and hands the same text to
 * each of them. Local subscribers get their publishes through Redis too, so every subscriber on
 * every instance sees one publisher's publishes in the order Redis received them.
 *
 * <p>An instance subscribes a Redis channel when its first local subscriber arrives and
 * unsubscribes when its last one leaves. The subscriptions this engine holds are what it wants
 * Redis to have: after a reconnect it subscribes them all again (Lettuce renews the ones it saw
 * confirmed; a subscribe refused during the outage is renewed here), and a subscription Redis
 * confirms for a channel no longer held here (an unsubscribe refused during the outage) is
 * dropped when its confirmation arrives.
 *
 * <p>Threads and order. {@link #channels} changes only inside {@code compute} on a channel's
 * entry, and the Redis command that goes with a change (the first subscriber's SUBSCRIBE, the last
 * one's UNSUBSCRIBE) is sent inside that same step, so Redis receives one channel's commands in
 * the order of the changes. Messages from Redis arrive on Lettuce's I/O thread of the subscription
 * connection, one at a time, and are delivered there: subscribers queue them (sockets) or hand them
 * to their streams; outbound middleware that does not finish at once continues elsewhere.
 */
public final class RedisBroker implements BrokerEngine {

  private static final Logger LOG = Logger.getLogger(RedisBroker.class.getName());
  private static final long RETRY_FIRST_MS = 200;
  private static final long RETRY_MAX_MS = 5_000;

  /** One channel's local subscribers, and Redis's confirmation of its subscription. */
  private static final class Channel {
    final ConcurrentHashMap<String, AGSubscriber> subscribers = new ConcurrentHashMap<>(1);
    // Replaced when the subscription is renewed after a failure; read and written inside compute.
    CompletableFuture<Void> confirmed;
  }

  private final RedisKeys keys;
  private final ClientResources resources;
  private final RedisLink link;
  private final ConcurrentHashMap<String, Channel> channels = new ConcurrentHashMap<>();
  // Held channels whose SUBSCRIBE failed: subscribed again once Redis answers.
  private final Set<String> unconfirmed = ConcurrentHashMap.newKeySet();
  private final List<Consumer<Throwable>> errorHandlers = new CopyOnWriteArrayList<>();
  private final CompletableFuture<Void> ready = new CompletableFuture<>();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean warnedUnreachable = new AtomicBoolean();
  private volatile AGCodec codec = JsonCodec.instance();
  // True once connect() succeeded; commands before that fail at once with BrokerError.
  private volatile boolean connected;
  private volatile boolean closed;
  private volatile ScheduledFuture<?> renewal;

  /**
   * @param commandTimeout how long a command may wait for Redis (AGServer passes
   *                       {@code min(redis.timeout, ackTimeout / 2)})
   * @param threads        Lettuce's I/O threads (the container's managed factory where there is one)
   */
  public RedisBroker(RedisOptions options, Duration commandTimeout, ThreadFactory threads) {
    this.keys = new RedisKeys(options.prefix());
    this.resources = LettuceSetup.resources(threads);
    RedisLink.Listener listener = new RedisLink.Listener() {
      @Override
      public void message(String redisChannel, String payload) {
        deliver(redisChannel, payload);
      }

      @Override
      public void subscribed(String redisChannel) {
        dropIfNotHeld(redisChannel);
      }

      @Override
      public void reconnected() {
        LOG.info(() -> "agserver: Redis connection restored (" + link.describe() + "); renewing "
            + channels.size() + " channel subscriptions");
        renewAll();
      }

      @Override
      public void disconnected() {
        if (!closed) {
          warn(AGError.broker("Lost the connection to " + link.describe()
              + "; reconnecting (publishes fail until it is back)"));
        }
      }
    };
    this.link = options.cluster()
        ? new ClusterLink(resources, options.uris(), commandTimeout, options.queueLimit(), listener)
        : new StandaloneLink(resources, options.uris().get(0), commandTimeout, options.queueLimit(), listener);
  }

  /** Starts connecting, on the first call; completes once Redis answered. Retries until then. */
  @Override
  public CompletionStage<Void> ready() {
    if (started.compareAndSet(false, true)) {
      connect(RETRY_FIRST_MS);
    }
    return ready.copy();
  }

  private void connect(long nextDelay) {
    if (closed) {
      return;
    }
    link.connect().whenComplete((ok, error) -> {
      if (error == null) {
        connected = true;
        LOG.info(() -> "agserver: connected to " + link.describe());
        renewAll();
        renewal = resources.eventExecutorGroup().scheduleWithFixedDelay(
            this::renewUnconfirmed, 1, 1, TimeUnit.SECONDS);
        ready.complete(null);
        return;
      }
      if (warnedUnreachable.compareAndSet(false, true)) {
        warn(AGError.broker("Cannot reach " + link.describe() + " (" + describe(error)
            + "); retrying until it answers: channels stay on this instance's subscribers' list meanwhile"));
      } else {
        LOG.log(Level.FINE, "agserver: still cannot reach " + link.describe(), error);
      }
      if (!closed) {
        resources.eventExecutorGroup().schedule(() -> connect(Math.min(nextDelay * 2, RETRY_MAX_MS)),
            nextDelay, TimeUnit.MILLISECONDS);
      }
    });
  }

  // ---- subscriptions ----

  @Override
  public CompletionStage<Void> subscribeSocket(AGSubscriber subscriber, String channelName) {
    String id = subscriber.id();
    CompletableFuture<?>[] confirmation = new CompletableFuture<?>[1];
    channels.compute(channelName, (name, channel) -> {
      Channel target = channel;
      if (target == null) {
        target = new Channel();
        target.confirmed = subscribeOnRedis(name);
      }
      target.subscribers.putIfAbsent(id, subscriber);
      confirmation[0] = target.confirmed;
      return target;
    });
    // Its own stage: the confirmation is shared by every subscriber that joined while it was
    // pending, and one caller's obtrude must not reach the others.
    return confirmation[0].thenApply(ok -> null);
  }

  /** Sends SUBSCRIBE; called inside compute on the channel's entry. */
  private CompletableFuture<Void> subscribeOnRedis(String channelName) {
    if (!connected) {
      unconfirmed.add(channelName);
      return CompletableFuture.failedFuture(notConnected());
    }
    CompletableFuture<Void> confirmed = new CompletableFuture<>();
    CompletionStage<Void> sent;
    try {
      sent = link.subscribe(keys.channel(channelName));
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    sent.whenComplete((ok, error) -> {
      if (error == null) {
        unconfirmed.remove(channelName);
        confirmed.complete(null);
      } else {
        // The channel stays held: it is subscribed again once Redis answers (unless it is no
        // longer held by then: renewUnconfirmed forgets it).
        unconfirmed.add(channelName);
        confirmed.completeExceptionally(AGError.broker("Redis did not confirm the subscription to the "
            + channelName + " channel - " + describe(error)));
      }
    });
    return confirmed;
  }

  @Override
  public CompletionStage<Void> unsubscribeSocket(AGSubscriber subscriber, String channelName) {
    String id = subscriber.id();
    channels.computeIfPresent(channelName, (name, channel) -> {
      channel.subscribers.remove(id);
      if (!channel.subscribers.isEmpty()) {
        return channel;
      }
      unconfirmed.remove(name);
      unsubscribeOnRedis(name);
      return null;
    });
    return CompletableFuture.completedFuture(null);
  }

  /**
   * Sends UNSUBSCRIBE; called inside compute. A failure (Redis unreachable) is left alone: a
   * restarted Redis has no subscriptions, and one Lettuce renews is dropped on its confirmation.
   */
  private void unsubscribeOnRedis(String channelName) {
    if (!connected) {
      return;
    }
    try {
      link.unsubscribe(keys.channel(channelName)).whenComplete((ok, error) -> {
        if (error != null) {
          LOG.log(Level.FINE, "agserver: Redis unsubscribe of " + channelName + " failed", error);
        }
      });
    } catch (RuntimeException e) {
      LOG.log(Level.FINE, "agserver: Redis unsubscribe of " + channelName + " failed", e);
    }
  }

  /** Redis confirmed a subscription: if no local subscriber wants the channel any more, drop it. */
  private void dropIfNotHeld(String redisChannel) {
    String channelName = keys.channelOf(redisChannel);
    if (channelName == null) {
      return;
    }
    // Inside compute, so that it cannot interleave with a first subscriber's SUBSCRIBE.
    channels.compute(channelName, (name, channel) -> {
      if (channel == null) {
        unsubscribeOnRedis(name);
      }
      return channel;
    });
  }

  /** After a (re)connect: subscribe every held channel again (a repeated SUBSCRIBE is harmless). */
  private void renewAll() {
    for (String channelName : new ArrayList<>(channels.keySet())) {
      renew(channelName);
    }
  }

  private void renewUnconfirmed() {
    if (closed || unconfirmed.isEmpty()) {
      return;
    }
    for (String channelName : new ArrayList<>(unconfirmed)) {
      if (channels.containsKey(channelName)) {
        renew(channelName);
      } else {
        unconfirmed.remove(channelName);
      }
    }
  }

  private void renew(String channelName) {
    channels.computeIfPresent(channelName, (name, channel) -> {
      CompletableFuture<Void> renewed = subscribeOnRedis(name);
      // Subscribers that join from now on wait for this confirmation, unless the last one held.
      if (channel.confirmed.isCompletedExceptionally()) {
        channel.confirmed = renewed;
      }
      return channel;
    });
  }

  // ---- publishing ----

  @Override
  public CompletionStage<Void> transmitPublish(String channelName, Object data) {
    CompletableFuture<Void> sent = send(channelName, data);
    sent.whenComplete((ok, error) -> {
      if (error != null) {
        warn(Failures.unwrap(error));
      }
    });
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletionStage<Void> invokePublish(String channelName, Object data) {
    return send(channelName, data);
  }

  /** Encodes once and sends one command; completes with Redis's reply, fails with a BrokerError. */
  private CompletableFuture<Void> send(String channelName, Object data) {
    String encoded;
    try {
      encoded = codec.encode(AGSimpleBroker.publishPacket(channelName, data));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (!connected) {
      return CompletableFuture.failedFuture(notConnected());
    }
    CompletableFuture<Void> result = new CompletableFuture<>();
    CompletionStage<Void> sent;
    try {
      sent = link.publish(keys.channel(channelName), encoded);
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    sent.whenComplete((ok, error) -> {
      if (error == null) {
        result.complete(null);
      } else {
        result.completeExceptionally(AGError.broker("Failed to publish to the " + channelName + " channel - "
            + describe(error)));
      }
    });
    return result;
  }

  /** A message from Redis: the frame every local subscriber of its channel gets as it is. */
  private void deliver(String redisChannel, String payload) {
    String channelName = keys.channelOf(redisChannel);
    Channel channel = channelName == null ? null : channels.get(channelName);
    if (channel == null) {
      return;
    }
    Object data;
    try {
      data = dataOf(payload);
    } catch (RuntimeException e) {
      warn(AGError.broker("Dropped a message from Redis on " + redisChannel + " that is not a #publish packet: "
          + e.getMessage()));
      return;
    }
    for (AGSubscriber subscriber : channel.subscribers.values()) {
      try {
        subscriber.deliverPublish(channelName, data, payload);
      } catch (RuntimeException e) {
        // One subscriber's failure must not cost the others this publish.
        warn(e);
      }
    }
  }

  /** The published data inside a {@code #publish} frame (Undefined when it had none). */
  private Object dataOf(String payload) {
    if (codec.decode(payload) instanceof Map<?, ?> packet && packet.get("data") instanceof Map<?, ?> inner) {
      return inner.containsKey("data") ? inner.get("data") : Undefined.INSTANCE;
    }
    throw new IllegalArgumentException("not a #publish frame");
  }

  // ---- the rest ----

  @Override
  public List<String> subscriptions() {
    return new ArrayList<>(channels.keySet());
  }

  @Override
  public boolean isSubscribed(String channel) {
    return channels.containsKey(channel);
  }

  /** Local subscribers of a channel. */
  public int subscriberCount(String channel) {
    Channel found = channels.get(channel);
    return found == null ? 0 : found.subscribers.size();
  }

  /** Whether the engine has connected to Redis (it may be reconnecting now). */
  public boolean isConnected() {
    return connected;
  }

  @Override
  public void setCodecEngine(AGCodec codec) {
    this.codec = codec;
  }

  @Override
  public void onError(Consumer<Throwable> handler) {
    errorHandlers.add(handler);
  }

  @Override
  public void close() {
    closed = true;
    ScheduledFuture<?> task = renewal;
    if (task != null) {
      task.cancel(false);
    }
    channels.clear();
    unconfirmed.clear();
    // The client's connections first, then the threads they run on.
    link.close().whenComplete((ok, error) -> resources.shutdown(0, 2, TimeUnit.SECONDS));
    ready.completeExceptionally(AGError.broker("The Redis broker engine was closed"));
  }

  private AGError notConnected() {
    return AGError.broker("Not connected to " + link.describe() + " yet");
  }

  private void warn(Throwable error) {
    if (errorHandlers.isEmpty()) {
      LOG.log(Level.WARNING, "agserver: " + error.getMessage(), error);
      return;
    }
    for (Consumer<Throwable> handler : errorHandlers) {
      handler.accept(error);
    }
  }

  private static String describe(Throwable error) {
    Throwable cause = Failures.unwrap(error);
    return cause.getClass().getSimpleName() + ": " + cause.getMessage();
  }
}
