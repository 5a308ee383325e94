package io.agserver.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
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
import io.agserver.pubsub.HistoryOptions;
import io.agserver.pubsub.HistoryPage;
import io.agserver.pubsub.LocalChannels;
import io.agserver.ops.InstanceSummary;
import io.agserver.ops.ServerFigures;
import io.agserver.pubsub.PresenceMember;
import io.agserver.pubsub.Publication;
import io.agserver.pubsub.StreamPosition;
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
 * Redis to have, and every confirmation Redis sends is checked against them: a subscription
 * confirmed for a channel nobody holds here is dropped, an unsubscription of a channel still held
 * (an UNSUBSCRIBE overtaken by the next SUBSCRIBE, a slot that moved in a cluster) is renewed.
 * When the connection is lost, every held channel is marked unconfirmed (a subscriber who joins
 * then gets a BrokerError, not an acknowledgement Redis never gave); Lettuce resubscribes what
 * it knew once it is back, and this engine renews whatever is still unconfirmed after that.
 *
 * <p>History channels ({@link #publishWithHistory}) take one script call per publish
 * ({@link HistoryScripts}): the next offset of the channel's epoch, the append to its capped
 * stream and the publish of {@code <origin>:<offset>:<epoch> <frame>} happen atomically in Redis,
 * so offsets are consecutive across instances. Every instance delivers a channel's publications
 * to its subscribers with their positions, in offset order and each once ({@link PublicationOrder}):
 * this one's own once the script's reply has brought the position and its echo from Redis has
 * placed it among the others' (the reply, on another connection, may overtake them), on the
 * workers through the queue of messages from Redis; a gap (a lost message, a subscription
 * renewed after an outage) is read from the history and delivered first. Presence
 * ({@link #joinPresence}) keeps each channel's members in a hash and their expiry in a sorted set;
 * this instance refreshes its own members every ttl/3 (and adds them again after Redis comes
 * back), so a dead instance's members expire and are dropped by the next read.
 *
 * <p>Threads. The Redis command that goes with a change of {@link #channels} (the first
 * subscriber's SUBSCRIBE, the last one's UNSUBSCRIBE) is sent inside that change's step (see
 * {@link LocalChannels}), so one channel's commands are queued in the order of its changes.
 * Nothing but this engine's own checks runs on Lettuce's I/O threads: what Redis sends is
 * delivered on the server's workers ({@link InboundMessages}), and every future this engine hands
 * out completes there, so application code (middleware, consumers, observers) never holds up a
 * Redis connection nor writes a command from its thread, where it would overtake the commands
 * other threads queued before it.
 */
public final class RedisBroker implements BrokerEngine {

  private static final Logger LOG = Logger.getLogger(RedisBroker.class.getName());
  private static final long RETRY_FIRST_MS = 200;
  private static final long RETRY_MAX_MS = 5_000;
  private static final long CLOSE_WAIT_SECONDS = 3;


  private final RedisKeys keys;
  // The start of every message this instance sends, so that it knows its own: a URL-safe base64
  // id, so neither ' ' nor ':' (see deliver) is part of it.
  private final String origin = new io.agserver.core.IdGenerator().generateId();
  private final RedisOptions options;
  private final Duration commandTimeout;
  private final ThreadFactory threads;
  private final Executor workers;
  private final UnaryOperator<RedisLink> decorate;
  private final InboundMessages inbound;
  private final String where;
  // The order of history channels' publications to local subscribers; used in the inbound queue's turns.
  private final PublicationOrder order;
  // Made by open(), on a thread of its own (see ready()); null before. Read only once connected
  // is true, or under the null checks of close().
  private volatile ClientResources resources;
  private volatile RedisLink link;
  // Each held channel's state: Redis's confirmation of its subscription (replaced when the
  // subscription is renewed after a failure).
  private final LocalChannels<CompletableFuture<Void>> channels = new LocalChannels<>();
  // Held channels whose subscription failed or was lost: renewed while Redis answers. A hint:
  // the renewal checks the channel's state in its step.
  private final Set<String> unconfirmed = ConcurrentHashMap.newKeySet();
  private final List<Consumer<Throwable>> errorHandlers = new CopyOnWriteArrayList<>();
  private final CompletableFuture<Void> ready = new CompletableFuture<>();
  // Completes (normally) when the first connect attempt ends, whatever its outcome.
  private final CompletableFuture<Void> firstAttempt = new CompletableFuture<>();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean warnedUnreachable = new AtomicBoolean();
  private volatile AGCodec codec = JsonCodec.instance();
  // True once connect() succeeded; commands before that fail at once with BrokerError.
  private volatile boolean connected;
  // False between a lost subscription connection and its return: renewals would be refused.
  private volatile boolean linkUp;
  private volatile boolean closed;
  private volatile ScheduledFuture<?> renewal;
  // Where publish round trips and failures are counted (the server's figures); null: nowhere.
  private volatile ServerFigures figures;
  // This instance's presence members: channel -> socket id -> member. A channel's entry is changed,
  // and the commands for it sent, inside compute on it (so a leave's HDEL never precedes a
  // refresh's HSET of the same member).
  private final ConcurrentHashMap<String, ConcurrentHashMap<String, OwnMember>> ownMembers = new ConcurrentHashMap<>();
  // The refresh of own members, every ttl/3 of the shortest ttl joined with; null before the first join.
  private ScheduledFuture<?> presenceRefresh;
  private long presenceRefreshMs = Long.MAX_VALUE;
  private final AtomicBoolean presenceRetry = new AtomicBoolean();
  // The id this instance last announced itself under for the admin page (null: never): its
  // summary is removed when the engine closes, so that a stopped instance leaves the list at once.
  // Guarded by announceLock, with leaving: an announcement is sent (not awaited) under it, and
  // close() sets leaving and sends the removal under it, so on the one link Redis runs a late
  // announcement before the removal, never after.
  private String announcedId;
  private boolean leaving;
  private final Object announceLock = new Object();

  /** One of this instance's presence members, refreshed by {@link #refreshPresence} when due. */
  private static final class OwnMember {
    final String json;
    final long ttlMs;
    // System.nanoTime() by which it is refreshed again; 0: at the next refresh.
    volatile long dueAt;

    OwnMember(String json, long ttlMs) {
      this.json = json;
      this.ttlMs = ttlMs;
      this.dueAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ttlMs / 3);
    }
  }

  /**
   * @param commandTimeout how long a command may wait for Redis (AGServer passes
   *                       {@code min(redis.timeout, ackTimeout / 2)})
   * @param threads        Lettuce's I/O threads (the container's managed factory where there is one)
   * @param workers        where deliveries from Redis, completions and warnings run (the server's workers)
   */
  public RedisBroker(RedisOptions options, Duration commandTimeout, ThreadFactory threads, Executor workers) {
    this(options, commandTimeout, threads, workers, UnaryOperator.identity());
  }

  /** As above, with the link passed through {@code decorate} (tests reorder its commands). */
  RedisBroker(RedisOptions options, Duration commandTimeout, ThreadFactory threads, Executor workers,
      UnaryOperator<RedisLink> decorate) {
    this.decorate = decorate;
    this.options = options;
    this.commandTimeout = commandTimeout;
    this.threads = threads;
    this.workers = workers;
    this.inbound = new InboundMessages(workers, options.queueLimit(), this::deliver,
        limit -> warn(AGError.broker("Messages from Redis arrive faster than this instance delivers them: more than "
            + limit + " wait (socketcluster.redis.queueLimit); dropping the ones beyond")));
    this.keys = new RedisKeys(options.prefix());
    this.order = new PublicationOrder(new OrderSink());
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
    try {
      openLink();
    } catch (RuntimeException | Error e) {
      warn(AGError.broker("Cannot set up the Redis client for " + where + " - " + describe(e)));
      completeReady(e);
      firstAttempt.complete(null);
    }
  }

  private void openLink() {
    ClientResources made = LettuceSetup.resources(threads);
    RedisLink.Listener listener = new RedisLink.Listener() {
      @Override
      public void message(String redisChannel, String payload) {
        // Its own publishes come back (this instance is subscribed): skipped before any queue,
        // but for those of history channels, which order this instance's deliveries too.
        if (!isOwnPlain(payload)) {
          inbound.offer(redisChannel, payload);
        }
      }

      @Override
      public void subscribed(String redisChannel) {
        confirmedSubscribed(redisChannel);
      }

      @Override
      public void unsubscribed(String redisChannel) {
        confirmedUnsubscribed(redisChannel);
      }

      @Override
      public void reconnected() {
        if (closed) {
          return;
        }
        linkUp = true;
        LOG.info(() -> "agserver: Redis connection restored (" + where + "); renewing the unconfirmed of "
            + channels.size() + " channel subscriptions");
        renewUnconfirmed();
        // A Redis that restarted empty lost this instance's presence members: added again now.
        resources.eventExecutorGroup().execute(() -> refreshPresence(true));
      }

      @Override
      public void disconnected() {
        if (closed) {
          return;
        }
        linkUp = false;
        markAllLost();
        LOG.warning(() -> "agserver: lost the connection to " + where + "; reconnecting");
        warn(AGError.broker("Lost the connection to " + where
            + "; reconnecting (publishes and new subscriptions fail until it is back)"));
      }

      @Override
      public void topologyChanged() {
        if (!closed && connected) {
          // A topology read means the cluster answers; a node connection closed on purpose
          // (a primary that left) is not followed by a reconnect.
          linkUp = true;
          renewAll();
        }
      }
    };
    RedisLink opened = decorate.apply(options.cluster()
        ? new ClusterLink(made, options.uris(), commandTimeout, options.queueLimit(), listener)
        : new StandaloneLink(made, options.uris().get(0), commandTimeout, options.queueLimit(), listener));
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
      if (closed) {
        return;
      }
      if (error == null) {
        connected = true;
        linkUp = true;
        firstAttempt.complete(null);
        LOG.info(() -> "agserver: connected to " + where);
        // Subscribes made before this failed and were marked unconfirmed.
        renewUnconfirmed();
        renewal = resources.eventExecutorGroup().scheduleWithFixedDelay(
            this::renewUnconfirmed, 1, 1, TimeUnit.SECONDS);
        completeReady(null);
        return;
      }
      firstAttempt.complete(null);
      if (warnedUnreachable.compareAndSet(false, true)) {
        LOG.warning(() -> "agserver: cannot reach " + where + " (" + describe(error) + "); retrying");
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
    return handOff(confirmation);
  }

  /**
   * Sends SUBSCRIBE; called inside the channel's step. While the first connect is under way (the
   * engine starts with the application, and clients may come first) it waits for it, as long as a
   * command may wait; then, or when Redis cannot be reached, it fails, and the channel is renewed
   * once Redis answers.
   */
  private CompletableFuture<Void> subscribeOnRedis(String channelName) {
    CompletableFuture<Void> confirmed = new CompletableFuture<>();
    if (connected && !closed) {
      sendSubscribe(channelName, confirmed);
    } else if (!closed && !firstAttempt.isDone()) {
      // Sent later, outside the channel's step: should the channel be left meanwhile, Redis's
      // confirmation finds it not held and the subscription is dropped.
      firstAttempt.copy().orTimeout(commandTimeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((ok, error) -> {
        if (error == null && connected && !closed) {
          sendSubscribe(channelName, confirmed);
        } else {
          // Failed first, then marked: a renewal that finds it marked must find it failed too.
          confirmed.completeExceptionally(notConnected());
          unconfirmed.add(channelName);
        }
      });
    } else {
      confirmed.completeExceptionally(notConnected());
      unconfirmed.add(channelName);
    }
    return confirmed;
  }

  private void sendSubscribe(String channelName, CompletableFuture<Void> confirmed) {
    CompletionStage<Void> sent;
    try {
      sent = link.subscribe(keys.channel(channelName));
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    sent.whenComplete((ok, error) -> {
      if (error == null) {
        confirmed.complete(null);
      } else {
        // The channel stays held: it is subscribed again once Redis answers (unless it is no
        // longer held by then: renewUnconfirmed forgets it). Failed first, then marked: a
        // renewal that finds it marked must find it failed too.
        confirmed.completeExceptionally(AGError.broker("Redis did not confirm the subscription to the "
            + channelName + " channel - " + describe(error)));
        unconfirmed.add(channelName);
      }
    });
  }

  @Override
  public CompletionStage<Void> unsubscribeSocket(AGSubscriber subscriber, String channelName) {
    channels.remove(channelName, subscriber, this::unsubscribeOnRedis);
    return CompletableFuture.completedFuture(null);
  }

  /**
   * Sends UNSUBSCRIBE; called inside the channel's step. A failure (Redis unreachable) is left alone: a
   * restarted Redis has no subscriptions, and one Lettuce renews is dropped on its confirmation.
   */
  private void unsubscribeOnRedis(String channelName) {
    // The channel's order starts again with its next holder, even one that comes before this
    // turn runs: what the last one saw (its last offset) would make the next one's first
    // publication look like a gap, and read publications it subscribed too late for (or
    // recovered itself) from the history, twice.
    inbound.offerAlways(() -> order.forget(channelName));
    if (!connected || closed) {
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

  /**
   * Redis confirmed a subscription (this engine's, or one Lettuce renewed after a reconnect):
   * dropped if no local subscriber holds the channel; a held channel marked lost is confirmed.
   */
  private void confirmedSubscribed(String redisChannel) {
    String channelName = keys.channelOf(redisChannel);
    if (channelName != null) {
      channels.check(channelName, this::unsubscribeOnRedis,
          state -> state.isCompletedExceptionally() ? CompletableFuture.completedFuture(null) : state);
      // A history channel's publications made while it was not subscribed are read and delivered.
      inbound.offerAlways(() -> {
        if (channels.contains(channelName)) {
          order.resubscribed(channelName);
        }
      });
    }
  }

  /**
   * Redis reports a channel unsubscribed. Replies come in the order of the commands, so for a
   * held channel this is either an earlier holder's UNSUBSCRIBE whose successor's SUBSCRIBE is
   * still pending (nothing to do), or a subscription lost while held: an UNSUBSCRIBE that
   * reached Redis after the next SUBSCRIBE, a hash slot that moved to another cluster node.
   * Those are renewed, and subscribers who join meanwhile wait for the renewal.
   */
  private void confirmedUnsubscribed(String redisChannel) {
    String channelName = keys.channelOf(redisChannel);
    if (channelName != null) {
      channels.check(channelName, name -> { },
          state -> state.isDone() ? subscribeOnRedis(channelName) : state);
    }
  }

  /** The subscription connection was lost: no held channel counts as confirmed until renewed. */
  private void markAllLost() {
    CompletableFuture<Void> lost = CompletableFuture.failedFuture(AGError.broker(
        "Lost the connection to " + where + "; the subscription is renewed once it is back"));
    for (String channelName : channels.names()) {
      channels.updateState(channelName, state -> {
        if (state.isDone()) {
          unconfirmed.add(channelName);
          return state.isCompletedExceptionally() ? state : lost;
        }
        return state;
      });
    }
  }

  /** A cluster's topology changed: subscribe every held channel again, where its slot is now. */
  private void renewAll() {
    for (String channelName : channels.names()) {
      channels.updateState(channelName, state -> {
        CompletableFuture<Void> renewed = subscribeOnRedis(channelName);
        return state.isCompletedExceptionally() ? renewed : state;
      });
    }
  }

  /** Subscribes again the held channels whose subscription failed or was lost, while Redis answers. */
  private void renewUnconfirmed() {
    if (closed || !connected || !linkUp || unconfirmed.isEmpty()) {
      return;
    }
    for (String channelName : new ArrayList<>(unconfirmed)) {
      unconfirmed.remove(channelName);
      // Nothing for a channel no longer held; one confirmed since is left alone.
      channels.updateState(channelName,
          state -> state.isCompletedExceptionally() ? subscribeOnRedis(channelName) : state);
    }
  }

  // ---- publishing ----

  /**
   * Counts each publish command (a PUBLISH, or a history channel's script) in {@code figures}:
   * the time from sending it to Redis's reply, and the ones that failed.
   */
  public void countPublishesIn(ServerFigures figures) {
    this.figures = figures;
  }

  private void publishReplied(long startedNanos, Throwable error) {
    ServerFigures counts = figures;
    if (counts == null) {
      return;
    }
    if (error == null) {
      counts.brokerPublished(System.nanoTime() - startedNanos);
    } else {
      counts.brokerPublishFailed();
    }
  }

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
    return handOff(send(channelName, data));
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
    long started = System.nanoTime();
    if (!connected) {
      AGError refused = notConnected();
      publishReplied(started, refused);
      return CompletableFuture.failedFuture(refused);
    }
    CompletableFuture<Void> result = new CompletableFuture<>();
    CompletionStage<Void> sent;
    try {
      sent = link.publish(keys.channel(channelName), origin + " " + encoded);
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    sent.whenComplete((ok, error) -> {
      publishReplied(started, error);
      if (error == null) {
        result.complete(null);
      } else {
        result.completeExceptionally(AGError.broker("Failed to publish to the " + channelName + " channel - "
            + describe(error)));
      }
    });
    return result;
  }

  /** Whether a message from Redis is a plain publish this instance sent ({@code <origin> <frame>}). */
  private boolean isOwnPlain(String payload) {
    int end = origin.length();
    return payload.length() > end && payload.charAt(end) == ' ' && payload.startsWith(origin);
  }

  /**
   * A message from another instance, on a worker: {@code <origin> <frame>} for a plain publish,
   * {@code <origin>:<offset>:<epoch> <frame>} for a publication on a history channel (the origin
   * holds neither ' ' nor ':', so the text before the first space tells them apart). Every local
   * subscriber gets the same frame text.
   */
  private void deliver(String redisChannel, String payload) {
    String channelName = keys.channelOf(redisChannel);
    if (channelName == null) {
      return;
    }
    if (!channels.contains(channelName)) {
      order.forget(channelName);
      return;
    }
    int space = payload.indexOf(' ');
    String frame = space < 0 ? payload : payload.substring(space + 1);
    StreamPosition position = null;
    int colon = space < 0 ? -1 : payload.lastIndexOf(':', space);
    if (colon >= 0) {
      int first = payload.indexOf(':');
      try {
        position = new StreamPosition(Long.parseLong(payload.substring(first + 1, colon)),
            payload.substring(colon + 1, space));
      } catch (RuntimeException e) {
        warn(AGError.broker("Dropped a message from Redis on " + redisChannel + " with a malformed position: "
            + payload.substring(0, space)));
        return;
      }
      // Decoded when it is delivered (not at all for the echo of an own publication).
      order.arrived(new PublicationOrder.Item(channelName, null, frame, position, true));
      return;
    }
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

  // ---- history ----

  /**
   * One script call ({@link HistoryScripts#PUBLISH}): the next offset, the append to the stream,
   * the publish to the other instances. This instance's subscribers get the publication once Redis
   * gave it its position, through the queue deliveries from Redis take (in the order of the
   * replies, which is the order of this instance's publishes on the channel). A failure is a
   * BrokerError, and then no subscriber anywhere has the publication.
   */
  @Override
  public CompletionStage<StreamPosition> publishWithHistory(String channelName, Object data, HistoryOptions history) {
    AGError untagged = untagged(channelName);
    if (untagged != null) {
      return CompletableFuture.failedFuture(untagged);
    }
    String encoded;
    try {
      encoded = codec.encode(AGSimpleBroker.publishPacket(channelName, data));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    long started = System.nanoTime();
    CompletableFuture<List<Object>> reply = script("Failed to publish to the " + channelName + " channel",
        HistoryScripts.PUBLISH, new String[] {keys.history(channelName), keys.meta(channelName)},
        keys.channel(channelName), origin, encoded, String.valueOf(history.size()),
        String.valueOf(history.ttl().toMillis()), newEpoch(), options.cluster() ? "spublish" : "publish");
    CompletableFuture<StreamPosition> result = new CompletableFuture<>();
    reply.whenComplete((values, error) -> {
      publishReplied(started, error);
      if (error != null) {
        result.completeExceptionally(error);
        return;
      }
      StreamPosition position;
      try {
        position = new StreamPosition(((Number) values.get(0)).longValue(), (String) values.get(1));
      } catch (RuntimeException e) {
        result.completeExceptionally(AGError.broker("Redis answered the publish to the " + channelName
            + " channel with " + values));
        return;
      }
      inbound.offer(() -> {
        if (channels.contains(channelName)) {
          order.arrived(new PublicationOrder.Item(channelName, data, encoded, position, false));
        }
      });
      result.complete(position);
    });
    return handOff(result);
  }

  /** One script call ({@link HistoryScripts#READ}); its reply is decoded on a worker. */
  @Override
  public CompletionStage<HistoryPage> history(String channelName, StreamPosition since, int limit,
      HistoryOptions history) {
    AGError untagged = untagged(channelName);
    if (untagged != null) {
      return CompletableFuture.failedFuture(untagged);
    }
    CompletableFuture<List<Object>> reply = script("Failed to read the history of the " + channelName + " channel",
        HistoryScripts.READ, new String[] {keys.history(channelName), keys.meta(channelName)},
        newEpoch(), String.valueOf(history.ttl().toMillis()), since == null ? "" : since.epoch(),
        since == null ? "0" : String.valueOf(since.offset()), String.valueOf(Math.max(limit, 0)));
    return handOff(reply, values -> {
      HistoryRead read = HistoryRead.of(values);
      check(channelName, since, read);
      List<Publication> publications = new ArrayList<>(read.entries().size());
      for (PublicationOrder.Entry entry : read.entries()) {
        try {
          publications.add(new Publication(entry.offset(), dataOf(entry.frame())));
        } catch (RuntimeException e) {
          warn(AGError.broker("Skipped an entry of the history of the " + channelName
              + " channel that is not a #publish packet: " + e.getMessage()));
        }
      }
      return new HistoryPage(read.epoch(), read.offset(), publications);
    });
  }

  /** The reply of {@link HistoryScripts#READ}. */
  private record HistoryRead(long offset, String epoch, long oldest, List<PublicationOrder.Entry> entries) {
    static HistoryRead of(List<Object> values) {
      List<?> flat = (List<?>) values.get(3);
      List<PublicationOrder.Entry> entries = new ArrayList<>(flat.size() / 2);
      for (int i = 0; i + 1 < flat.size(); i += 2) {
        String id = (String) flat.get(i);
        entries.add(new PublicationOrder.Entry(Long.parseLong(id.substring(0, id.indexOf('-'))), (String) flat.get(i + 1)));
      }
      return new HistoryRead(((Number) values.get(0)).longValue(), (String) values.get(1),
          ((Number) values.get(2)).longValue(), entries);
    }
  }

  /** Fails with UnrecoverablePositionError when the read cannot give all the publications after {@code since}. */
  private static void check(String channelName, StreamPosition since, HistoryRead read) {
    long offset = read.offset();
    String epoch = read.epoch();
    long oldest = read.oldest();
    if (since != null) {
      if (!since.epoch().equals(epoch)) {
        throw AGError.unrecoverablePosition("The history of the " + channelName + " channel is in epoch " + epoch
            + ", not " + since.epoch() + ": the publications since that position are lost");
      }
      if (since.offset() > offset) {
        throw AGError.unrecoverablePosition("The history of the " + channelName + " channel ends at offset "
            + offset + ", before " + since.offset());
      }
      if (since.offset() < offset && (oldest <= 0 || oldest > since.offset() + 1)) {
        throw AGError.unrecoverablePosition("The history of the " + channelName + " channel keeps offsets from "
            + oldest + " on: the publications after " + since.offset() + " are not all kept");
      }
    }
  }

  /** What {@link #order} asks of the engine; called in the inbound queue's turns, on a worker. */
  private final class OrderSink implements PublicationOrder.Sink {
    @Override
    public void deliver(PublicationOrder.Item item) {
      Object data = item.data();
      if (data == null) {
        try {
          data = dataOf(item.frame());
        } catch (RuntimeException e) {
          warn(AGError.broker("Dropped a publication of the " + item.channel() + " channel that is not a #publish packet: "
              + e.getMessage()));
          return;
        }
      }
      channels.deliverPublication(item.channel(), data, item.frame(), item.position(), RedisBroker.this::warn);
    }

    @Override
    public void readGap(String channelName, StreamPosition since) {
      // Reads without making an epoch: a channel whose history is gone reads as epoch "".
      script("Failed to read the history of the " + channelName + " channel", HistoryScripts.READ,
          new String[] {keys.history(channelName), keys.meta(channelName)},
          newEpoch(), "0", since.epoch(), String.valueOf(since.offset()), "0").whenComplete((values, error) ->
              inbound.offerAlways(() -> {
                if (error != null) {
                  order.repaired(channelName, null, null, Failures.unwrap(error).getMessage());
                  return;
                }
                HistoryRead read;
                try {
                  read = HistoryRead.of(values);
                  check(channelName, since, read);
                } catch (RuntimeException e) {
                  order.repaired(channelName, null, null, e.getMessage());
                  return;
                }
                order.repaired(channelName, read.epoch(), read.entries(), null);
              }));
    }

    @Override
    public void recheck(String channelName) {
      if (closed) {
        return;
      }
      resources.eventExecutorGroup().schedule(() -> inbound.offerAlways(() -> order.timedOut(channelName)),
          commandTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void lost(String channelName, StreamPosition since, String why) {
      warn(AGError.unrecoverablePosition("Publications of the " + channelName + " channel after offset "
          + since.offset() + " (epoch " + since.epoch() + ") did not reach this instance and cannot be read back: " + why));
    }
  }

  /** A new epoch: 12 random URL-safe base64 characters (neither ' ' nor ':', see deliver). */
  private static String newEpoch() {
    byte[] bytes = new byte[9];
    java.util.concurrent.ThreadLocalRandom.current().nextBytes(bytes);
    return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  // ---- presence ----

  /**
   * Stores the member (its expiry now + ttl, in Redis's clock) and remembers it, so that this
   * instance refreshes it every ttl/3 and adds it again after Redis lost it. A join that fails is
   * forgotten (the caller has its BrokerError).
   */
  @Override
  public CompletionStage<Void> joinPresence(String channelName, PresenceMember member, Duration ttl) {
    AGError untagged = untagged(channelName);
    if (untagged != null) {
      return CompletableFuture.failedFuture(untagged);
    }
    String json;
    try {
      Map<String, Object> stored = new java.util.LinkedHashMap<>();
      stored.put("id", member.id());
      stored.put("user", member.user());
      json = JsonCodec.instance().encode(stored);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (!connected || closed) {
      return CompletableFuture.failedFuture(notConnected());
    }
    long ttlMs = Math.max(ttl.toMillis(), 1);
    OwnMember own = new OwnMember(json, ttlMs);
    @SuppressWarnings("unchecked")
    CompletableFuture<List<Object>>[] sent = new CompletableFuture[1];
    ownMembers.compute(channelName, (name, members) -> {
      ConcurrentHashMap<String, OwnMember> held = members == null ? new ConcurrentHashMap<>() : members;
      held.put(member.id(), own);
      sent[0] = script("Failed to join the presence of the " + channelName + " channel", PresenceScripts.JOIN,
          presenceKeys(channelName), String.valueOf(ttlMs), member.id(), json);
      return held;
    });
    schedulePresenceRefresh(ttlMs / 3);
    sent[0].whenComplete((ok, error) -> {
      if (error != null) {
        ownMembers.computeIfPresent(channelName, (name, members) -> {
          members.remove(member.id(), own);
          return members.isEmpty() ? null : members;
        });
      }
    });
    return handOff(sent[0], values -> null);
  }

  @Override
  public CompletionStage<Void> leavePresence(String channelName, String memberId) {
    @SuppressWarnings("unchecked")
    CompletableFuture<List<Object>>[] sent = new CompletableFuture[1];
    ownMembers.compute(channelName, (name, members) -> {
      if (members != null) {
        members.remove(memberId);
      }
      sent[0] = script("Failed to leave the presence of the " + channelName + " channel", PresenceScripts.LEAVE,
          presenceKeys(channelName), memberId);
      return members == null || members.isEmpty() ? null : members;
    });
    return handOff(sent[0], values -> null);
  }

  /** One script call ({@link PresenceScripts#READ}): drops the expired members, returns the others. */
  @Override
  public CompletionStage<List<PresenceMember>> presence(String channelName) {
    AGError untagged = untagged(channelName);
    if (untagged != null) {
      return CompletableFuture.failedFuture(untagged);
    }
    CompletableFuture<List<Object>> reply = script("Failed to read the presence of the " + channelName + " channel",
        PresenceScripts.READ, presenceKeys(channelName));
    return handOff(reply, values -> {
      List<PresenceMember> members = new ArrayList<>(values.size() / 2);
      for (int i = 0; i + 1 < values.size(); i += 2) {
        String id = (String) values.get(i);
        Object user = JsonCodec.instance().decode((String) values.get(i + 1)) instanceof Map<?, ?> stored
            ? stored.get("user") : null;
        members.add(new PresenceMember(id, user));
      }
      return members;
    });
  }

  private String[] presenceKeys(String channelName) {
    return new String[] {keys.presence(channelName), keys.presenceExpiry(channelName)};
  }

  /** Runs the refresh every {@code periodMs} at most, sooner if a join asks for less. */
  private synchronized void schedulePresenceRefresh(long periodMs) {
    long period = Math.max(periodMs, 10);
    if (closed || period >= presenceRefreshMs) {
      return;
    }
    if (presenceRefresh != null) {
      presenceRefresh.cancel(false);
    }
    presenceRefreshMs = period;
    presenceRefresh = resources.eventExecutorGroup().scheduleWithFixedDelay(
        () -> refreshPresence(false), period, period, TimeUnit.MILLISECONDS);
  }

  /**
   * Stores again this instance's members that are due (all of them with {@code all}: Redis is back
   * and may have lost them), one script call per channel and ttl. On Lettuce's computation
   * executor; no application code runs here. A failed refresh is tried again at the next turn.
   */
  private void refreshPresence(boolean all) {
    if (closed || !connected) {
      return;
    }
    long now = System.nanoTime();
    for (String channelName : new ArrayList<>(ownMembers.keySet())) {
      ownMembers.computeIfPresent(channelName, (name, members) -> {
        Map<Long, List<Map.Entry<String, OwnMember>>> dueByTtl = new java.util.HashMap<>();
        for (Map.Entry<String, OwnMember> entry : members.entrySet()) {
          if (all || entry.getValue().dueAt - now <= 0) {
            dueByTtl.computeIfAbsent(entry.getValue().ttlMs, ttl -> new ArrayList<>()).add(entry);
          }
        }
        dueByTtl.forEach((ttl, due) -> {
          List<String> args = new ArrayList<>(1 + 2 * due.size());
          args.add(String.valueOf(ttl));
          for (Map.Entry<String, OwnMember> entry : due) {
            entry.getValue().dueAt = now + TimeUnit.MILLISECONDS.toNanos(ttl / 3);
            args.add(entry.getKey());
            args.add(entry.getValue().json);
          }
          script("Failed to refresh the presence of the " + name + " channel", PresenceScripts.JOIN,
              presenceKeys(name), args.toArray(String[]::new)).whenComplete((ok, error) -> {
                if (error != null) {
                  due.forEach(entry -> entry.getValue().dueAt = 0);
                  LOG.log(Level.FINE, "agserver: " + error.getMessage(), error);
                  retryPresenceRefresh();
                }
              });
        });
        return members;
      });
    }
  }

  /**
   * A refresh failed (the command connection may come back after the subscription one): the due
   * members are tried again soon rather than a third of a ttl later.
   */
  private void retryPresenceRefresh() {
    if (!closed && presenceRetry.compareAndSet(false, true)) {
      resources.eventExecutorGroup().schedule(() -> {
        presenceRetry.set(false);
        refreshPresence(false);
      }, RETRY_MAX_MS / 5, TimeUnit.MILLISECONDS);
    }
  }

  // ---- the admin page's list of instances ----

  /**
   * Stores the summary with its expiry (now + ttl, in Redis's clock) in the instances' hash, as a
   * presence member is stored; the instance is removed again when this engine closes.
   */
  @Override
  public CompletionStage<Void> announceInstance(InstanceSummary summary, Duration ttl) {
    String json;
    try {
      json = JsonCodec.instance().encode(summary.toMap());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    CompletableFuture<List<Object>> reply;
    synchronized (announceLock) {
      if (leaving) {
        return CompletableFuture.failedFuture(AGError.broker("The broker engine is closing"));
      }
      announcedId = summary.id();
      reply = script("Failed to store this instance's summary for the admin page",
          PresenceScripts.JOIN, instanceKeys(), String.valueOf(Math.max(ttl.toMillis(), 1)), summary.id(), json);
    }
    return handOff(reply, values -> null);
  }

  /**
   * One script call ({@link PresenceScripts#READ}): drops the expired summaries and reads the
   * others; one that does not read as a summary (another program's, a corrupt one) is skipped.
   */
  @Override
  public CompletionStage<List<InstanceSummary>> instances(InstanceSummary self) {
    CompletableFuture<List<Object>> reply = script("Failed to read the instances' summaries",
        PresenceScripts.READ, instanceKeys());
    return handOff(reply, values -> {
      List<InstanceSummary> all = new ArrayList<>(values.size() / 2 + 1);
      boolean selfListed = false;
      for (int i = 0; i + 1 < values.size(); i += 2) {
        if (self.id().equals(values.get(i))) {
          all.add(self);
          selfListed = true;
          continue;
        }
        try {
          if (JsonCodec.instance().decode((String) values.get(i + 1)) instanceof Map<?, ?> stored) {
            all.add(InstanceSummary.fromMap(stored));
          }
        } catch (RuntimeException e) {
          LOG.log(Level.FINE, "agserver: skipped an instance summary that does not read as one: " + values.get(i), e);
        }
      }
      if (!selfListed) {
        all.add(self);
      }
      all.sort(java.util.Comparator.comparingLong(InstanceSummary::startedAt).thenComparing(InstanceSummary::id));
      return all;
    });
  }

  private String[] instanceKeys() {
    return new String[] {keys.instances(), keys.instancesExpiry()};
  }

  /**
   * One script call on the link; fails at once when not connected. Completes (on Lettuce's thread)
   * with the reply, or a BrokerError that starts with {@code what}.
   */
  private CompletableFuture<List<Object>> script(String what, LuaScript script, String[] scriptKeys, String... args) {
    if (!connected || closed) {
      return CompletableFuture.failedFuture(notConnected());
    }
    CompletableFuture<List<Object>> result = new CompletableFuture<>();
    CompletionStage<List<Object>> sent;
    try {
      sent = link.script(script, scriptKeys, args);
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    sent.whenComplete((values, error) -> {
      if (error == null) {
        result.complete(values);
      } else {
        result.completeExceptionally(AGError.broker(what + " - " + describe(error)));
      }
    });
    return result;
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
  @Override
  public int subscriberCount(String channel) {
    return channels.subscriberCount(channel);
  }

  @Override
  public int channelCount() {
    return channels.size();
  }

  /**
   * Whether Redis answers now: the engine has connected, and neither its subscription connection
   * nor its command connection is lost (Lettuce is reconnecting them meanwhile).
   */
  @Override
  public boolean isConnected() {
    if (!connected || !linkUp || closed) {
      return false;
    }
    RedisLink current = link;
    return current != null && current.isOpen();
  }

  @Override
  public void setCodecEngine(AGCodec codec) {
    this.codec = codec;
  }

  @Override
  public void onError(Consumer<Throwable> handler) {
    errorHandlers.add(handler);
  }

  /**
   * Closes the connections and Lettuce's threads, waiting for them a few seconds at most (an
   * undeploy should not leave threads of a gone application running).
   */
  @Override
  public void close() {
    CompletableFuture<List<Object>> removal = null;
    synchronized (announceLock) {
      leaving = true;
      if (announcedId != null && connected && !closed) {
        removal = script("Failed to remove this instance's summary", PresenceScripts.LEAVE, instanceKeys(), announcedId);
      }
    }
    if (removal != null) {
      await(removal, "removing this instance from the admin page's list");
    }
    closed = true;
    ScheduledFuture<?> task = renewal;
    if (task != null) {
      task.cancel(false);
    }
    synchronized (this) {
      if (presenceRefresh != null) {
        presenceRefresh.cancel(false);
      }
    }
    ownMembers.clear();
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
      await(openLink.close(), "closing the Redis connections");
      await(openResources.shutdown(0, 2, TimeUnit.SECONDS), "stopping the Redis client's threads");
    }
    ready.completeExceptionally(AGError.broker("The Redis broker engine was closed"));
    firstAttempt.complete(null);
  }

  private static void await(java.util.concurrent.Future<?> done, String what) {
    try {
      done.get(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      LOG.log(Level.FINE, "agserver: " + what + " did not finish cleanly", e);
    }
  }

  /** Completes (on a worker: AGServer's ready observers are application code) unless closed. */
  private void completeReady(Throwable error) {
    workers.execute(() -> {
      if (error == null) {
        ready.complete(null);
      } else {
        ready.completeExceptionally(error);
      }
    });
  }

  /**
   * The same outcome, completed on a worker: what callers chain on it (a socket's next message,
   * middleware, consumers) must not run on Lettuce's I/O thread. One already complete is handed
   * back as it is, on the caller's thread.
   */
  private <T> CompletableFuture<T> handOff(CompletableFuture<T> source) {
    if (source.isDone()) {
      return source.copy();
    }
    CompletableFuture<T> result = new CompletableFuture<>();
    source.whenComplete((value, error) -> workers.execute(() -> {
      if (error == null) {
        result.complete(value);
      } else {
        result.completeExceptionally(error);
      }
    }));
    return result;
  }

  /**
   * As {@link #handOff(CompletableFuture)}, with {@code then} applied to the value on the worker;
   * what it throws fails the result as it is (an AGError stays an AGError, not wrapped).
   */
  private <R, T> CompletableFuture<T> handOff(CompletableFuture<R> source, java.util.function.Function<R, T> then) {
    CompletableFuture<T> result = new CompletableFuture<>();
    source.whenComplete((value, error) -> workers.execute(() -> {
      if (error != null) {
        result.completeExceptionally(Failures.unwrap(error));
        return;
      }
      try {
        result.complete(then.apply(value));
      } catch (RuntimeException e) {
        result.completeExceptionally(e);
      }
    }));
    return result;
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

  /**
   * In a cluster, a channel whose name is empty or starts with '}' has an empty hash tag: its keys
   * would fall in different slots, where no script reaches them all. Refused for history and presence.
   */
  private AGError untagged(String channelName) {
    if (options.cluster() && (channelName.isEmpty() || channelName.startsWith("}"))) {
      return AGError.invalidAction("The " + channelName + " channel cannot keep history or presence in a Redis Cluster:"
          + " a name that is empty or starts with } gives its keys no common hash slot");
    }
    return null;
  }

  /** Reports on a worker: the handlers raise the server's warning event, observed by application code. */
  private void warn(Throwable error) {
    workers.execute(() -> report(error));
  }

  private void report(Throwable error) {
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
