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
import io.agserver.core.ManagedThreads;
import io.agserver.codec.JsonCodec;
import io.agserver.config.RedisOptions;
import io.agserver.protocol.AGError;
import io.agserver.protocol.Undefined;
import io.agserver.pubsub.AGSimpleBroker;
import io.agserver.pubsub.AGSubscriber;
import io.agserver.pubsub.BrokerEngine;
import io.agserver.pubsub.LocalChannels;
import io.lettuce.core.resource.ClientResources;

/**
 * Channels across instances on Redis ({@code socketcluster.brokerEngine=redis}).
 *
 * <p>A publish is encoded once, on the instance where it enters: its subscribers there get the
 * frame at once, as with the memory engine, and one PUBLISH (SPUBLISH in a cluster) carries the
 * same frame, behind the instance's origin id, to the others; each instance with subscribers of
 * the channel hands that one text to all of them and skips its own messages. One publisher's
 * publishes reach every subscriber in the order they were made (locally in call order, remotely
 * in the order Redis received them from the one connection they were sent on).
 *
 * <p>An instance subscribes a Redis channel when its first local subscriber arrives and
 * unsubscribes when its last one leaves. The subscriptions this engine holds are what it wants
 * Redis to have: after a reconnect it subscribes them all again (Lettuce renews the ones it saw
 * confirmed; a subscribe refused during the outage is renewed here), and a subscription Redis
 * confirms for a channel no longer held here (an unsubscribe refused during the outage) is
 * dropped when its confirmation arrives.
 *
 * <p>Threads and order. The Redis command that goes with a change of {@link #channels} (the
 * first subscriber's SUBSCRIBE, the last one's UNSUBSCRIBE) is sent inside that change's step
 * (see {@link LocalChannels}), so Redis receives one channel's commands in the order of the
 * changes. Messages from Redis arrive on Lettuce's I/O thread of the subscription
 * connection, one at a time, and are delivered there: subscribers queue them (sockets) or hand them
 * to their streams; outbound middleware that does not finish at once continues elsewhere.
 */
public final class RedisBroker implements BrokerEngine {

  private static final Logger LOG = Logger.getLogger(RedisBroker.class.getName());
  private static final long RETRY_FIRST_MS = 200;
  private static final long RETRY_MAX_MS = 5_000;


  private final RedisKeys keys;
  // "<random id> ": the start of every message this instance sends, so that it knows its own.
  private final String origin = new io.agserver.core.IdGenerator().generateId().replace(" ", "") + " ";
  private final RedisOptions options;
  private final Duration commandTimeout;
  private final ThreadFactory threads;
  private final String where;
  // Made by open(), on a thread of its own (see ready()); null before. Read only once connected
  // is true, or under the null checks of close().
  private volatile ClientResources resources;
  private volatile RedisLink link;
  // Each held channel's state: Redis's confirmation of its subscription (replaced when the
  // subscription is renewed after a failure).
  private final LocalChannels<CompletableFuture<Void>> channels = new LocalChannels<>();
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
    this.options = options;
    this.commandTimeout = commandTimeout;
    this.threads = threads;
    this.keys = new RedisKeys(options.prefix());
    this.where = describeUris(options);
  }

  /** Starts connecting, on the first call; completes once Redis answered. Retries until then. */
  @Override
  public CompletionStage<Void> ready() {
    if (started.compareAndSet(false, true)) {
      // Lettuce starts its timer thread and waits until it runs; a container's managed thread
      // does not run before the application has started, and ready() is called while it starts.
      // So the client is made on a thread of its own, which may wait without holding up the start.
      Thread opener = ManagedThreads.daemonThreads("agserver-redis-open").newThread(this::open);
      opener.start();
    }
    return ready.copy();
  }

  private void open() {
    ClientResources made = LettuceSetup.resources(threads);
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
        LOG.info(() -> "agserver: Redis connection restored (" + where + "); renewing "
            + channels.size() + " channel subscriptions");
        renewAll();
      }

      @Override
      public void disconnected() {
        if (!closed) {
          warn(AGError.broker("Lost the connection to " + where
              + "; reconnecting (publishes fail until it is back)"));
        }
      }
    };
    RedisLink opened = options.cluster()
        ? new ClusterLink(made, options.uris(), commandTimeout, options.queueLimit(), listener)
        : new StandaloneLink(made, options.uris().get(0), commandTimeout, options.queueLimit(), listener);
    synchronized (this) {
      if (closed) {
        made.shutdown(0, 2, TimeUnit.SECONDS);
        return;
      }
      resources = made;
      link = opened;
    }
    connect(RETRY_FIRST_MS);
  }

  private void connect(long nextDelay) {
    if (closed) {
      return;
    }
    link.connect().whenComplete((ok, error) -> {
      if (error == null) {
        connected = true;
        LOG.info(() -> "agserver: connected to " + where);
        renewAll();
        renewal = resources.eventExecutorGroup().scheduleWithFixedDelay(
            this::renewUnconfirmed, 1, 1, TimeUnit.SECONDS);
        ready.complete(null);
        return;
      }
      if (warnedUnreachable.compareAndSet(false, true)) {
        warn(AGError.broker("Cannot reach " + where + " (" + describe(error)
            + "); retrying until it answers: channels stay on this instance's subscribers' list meanwhile"));
      } else {
        LOG.log(Level.FINE, "agserver: still cannot reach " + where, error);
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
    CompletableFuture<Void> confirmation = channels.add(channelName, subscriber, this::subscribeOnRedis);
    // Its own stage: the confirmation is shared by every subscriber that joined while it was
    // pending, and one caller's obtrude must not reach the others.
    return confirmation.thenApply(ok -> null);
  }

  /** Sends SUBSCRIBE; called inside the channel's step. */
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
    channels.remove(channelName, subscriber, name -> {
      unconfirmed.remove(name);
      unsubscribeOnRedis(name);
    });
    return CompletableFuture.completedFuture(null);
  }

  /**
   * Sends UNSUBSCRIBE; called inside the channel's step. A failure (Redis unreachable) is left alone: a
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
    // In the channel's step, so that it cannot interleave with a first subscriber's SUBSCRIBE.
    channels.ifNotHeld(channelName, this::unsubscribeOnRedis);
  }

  /** After a (re)connect: subscribe every held channel again (a repeated SUBSCRIBE is harmless). */
  private void renewAll() {
    for (String channelName : channels.names()) {
      renew(channelName);
    }
  }

  private void renewUnconfirmed() {
    if (closed || unconfirmed.isEmpty()) {
      return;
    }
    for (String channelName : new ArrayList<>(unconfirmed)) {
      if (channels.contains(channelName)) {
        renew(channelName);
      } else {
        unconfirmed.remove(channelName);
      }
    }
  }

  private void renew(String channelName) {
    channels.updateState(channelName, confirmed -> {
      CompletableFuture<Void> renewed = subscribeOnRedis(channelName);
      // Subscribers that join from now on wait for this confirmation, unless the last one held.
      return confirmed.isCompletedExceptionally() ? renewed : confirmed;
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

  /**
   * Encodes once, hands the frame to this instance's subscribers, then sends one command with the
   * frame for the other instances; completes with Redis's reply, fails with a BrokerError (the
   * local subscribers have the publish then, the other instances do not).
   */
  private CompletableFuture<Void> send(String channelName, Object data) {
    String encoded;
    try {
      encoded = codec.encode(AGSimpleBroker.publishPacket(channelName, data));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    channels.deliver(channelName, data, encoded, this::warn);
    if (!connected) {
      return CompletableFuture.failedFuture(notConnected());
    }
    CompletableFuture<Void> result = new CompletableFuture<>();
    CompletionStage<Void> sent;
    try {
      sent = link.publish(keys.channel(channelName), origin + encoded);
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

  /**
   * A message from Redis: {@code <origin> <frame>}. This instance's own come back too (it is
   * subscribed) and are skipped: their local subscribers had them when they were sent. Every local
   * subscriber gets the same frame text.
   */
  private void deliver(String redisChannel, String payload) {
    if (payload.startsWith(origin)) {
      return;
    }
    String channelName = keys.channelOf(redisChannel);
    if (channelName == null || !channels.contains(channelName)) {
      return;
    }
    int space = payload.indexOf(' ');
    String frame = space < 0 ? payload : payload.substring(space + 1);
    Object data;
    try {
      data = dataOf(frame);
    } catch (RuntimeException e) {
      warn(AGError.broker("Dropped a message from Redis on " + redisChannel + " that is not a #publish packet: "
          + e.getMessage()));
      return;
    }
    channels.deliver(channelName, data, frame, this::warn);
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
    return channels.names();
  }

  @Override
  public boolean isSubscribed(String channel) {
    return channels.contains(channel);
  }

  /** Local subscribers of a channel. */
  public int subscriberCount(String channel) {
    return channels.subscriberCount(channel);
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
    RedisLink openLink;
    ClientResources openResources;
    synchronized (this) {
      openLink = link;
      openResources = resources;
    }
    if (openLink != null) {
      // The client's connections first, then the threads they run on.
      openLink.close().whenComplete((ok, error) -> openResources.shutdown(0, 2, TimeUnit.SECONDS));
    }
    ready.completeExceptionally(AGError.broker("The Redis broker engine was closed"));
  }

  private static String describeUris(RedisOptions options) {
    List<String> names = new ArrayList<>();
    for (String uri : options.uris()) {
      names.add(LettuceSetup.describe(LettuceSetup.uri(uri)));
    }
    return (options.cluster() ? "Redis Cluster " : "") + String.join(",", names);
  }

  private AGError notConnected() {
    return AGError.broker("Not connected to " + where + " yet");
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

  /** The failure and, when Lettuce wrapped it, its root cause ("Connection refused" ...). */
  private static String describe(Throwable error) {
    Throwable cause = Failures.unwrap(error);
    Throwable root = cause;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String text = cause.getClass().getSimpleName() + ": " + cause.getMessage();
    return root == cause ? text : text + " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
  }
}
