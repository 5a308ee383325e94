package io.agserver.pubsub;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import io.agserver.ops.ServerFigures;
import io.agserver.stream.AGStream;
import io.agserver.stream.AsyncStreamEmitter;
import io.agserver.stream.ConsumerStats;
import io.agserver.stream.StreamDemux;

/**
 * The server's own pub/sub client: publishes to channels (bypassing middleware, as server-side
 * publishes do in the original) and subscribes to channels to consume what clients publish.
 * It is a subscriber of the broker like any socket.
 */
public final class AGExchange extends AsyncStreamEmitter implements AGSubscriber {

  /** The exchange, or one of its channels, became subscribed. */
  public record SubscribeEvent(String channel) {}

  /** The exchange, or one of its channels, became unsubscribed. */
  public record UnsubscribeEvent(String channel) {}

  private final BrokerEngine broker;
  private final Consumer<Throwable> errors;
  private final ServerFigures figures;
  private final Map<String, String> channelStates = new ConcurrentHashMap<>();
  private final StreamDemux<Object> channelData = new StreamDemux<>();
  private final StreamDemux<Object> channelEvents = new StreamDemux<>();
  private final StreamDemux<AGPublication> channelPublications = new StreamDemux<>();
  // Which channels keep history or track presence; none until the server sets its own.
  private volatile ChannelFeatures features;

  public AGExchange(BrokerEngine broker) {
    this(broker, error -> {});
  }

  /** @param errors receives the broker's failures to subscribe the exchange (the server's warnings) */
  public AGExchange(BrokerEngine broker, Consumer<Throwable> errors) {
    this(broker, errors, null);
  }

  /** @param figures where each publish is counted (the server's figures); null: nowhere */
  public AGExchange(BrokerEngine broker, Consumer<Throwable> errors, ServerFigures figures) {
    this.broker = broker;
    this.errors = errors;
    this.figures = figures;
  }

  private void countPublish() {
    if (figures != null) {
      figures.published();
    }
  }

  @Override
  public String id() {
    return "exchange";
  }

  @Override
  public void deliverPublish(String channel, Object data, String encoded) {
    channelData.write(channel, data);
    channelPublications.write(channel, new AGPublication(channel, data, null));
  }

  @Override
  public void deliverPublication(String channel, Object data, String encoded, StreamPosition position) {
    AGPublication publication = new AGPublication(channel, data, position);
    Replay replay = replays.get(channel);
    if (replay == null || !replay.hold(publication)) {
      write(publication);
    }
  }

  private void write(AGPublication publication) {
    channelData.write(publication.channel(), publication.data());
    channelPublications.write(publication.channel(), publication);
  }

  /**
   * A channel being recovered: its live publications wait until the missed ones are written
   * (at most {@link #REPLAY_WAIT_LIMIT}; past it the recovery is reported incomplete).
   */
  private final class Replay {
    private List<AGPublication> waiting = new ArrayList<>();
    private boolean overflowed;
    // Once live, the latest written: a delivery that was on its way when the history was read
    // comes again, and is dropped. Kept until the channel is unsubscribed.
    private StreamPosition last;

    /** True if the publication waits for the replay, or was written already; false to write it now. */
    synchronized boolean hold(AGPublication publication) {
      StreamPosition position = publication.position();
      if (waiting == null) {
        if (position != null && last != null && last.epoch().equals(position.epoch())
            && position.offset() <= last.offset()) {
          return true;
        }
        if (position != null) {
          last = position;
        }
        return false;
      }
      if (waiting.size() < REPLAY_WAIT_LIMIT) {
        waiting.add(publication);
      } else {
        overflowed = true;
      }
      return true;
    }

    /** Writes the missed ones, then those that waited and came after them; live from then on. */
    synchronized boolean finish(String channel, List<Publication> missed, StreamPosition at) {
      for (Publication publication : missed) {
        write(new AGPublication(channel, publication.data(), new StreamPosition(publication.offset(), at.epoch())));
      }
      StreamPosition written = at;
      // By index, still waiting: a consumer that publishes here meanwhile joins the end of the list.
      for (int i = 0; i < waiting.size(); i++) {
        AGPublication live = waiting.get(i);
        StreamPosition position = live.position();
        if (!position.epoch().equals(written.epoch()) || position.offset() > written.offset()) {
          written = position;
          write(live);
        }
      }
      waiting = null;
      last = written;
      return !overflowed;
    }
  }

  private static final int REPLAY_WAIT_LIMIT = 10_000;
  private final Map<String, Replay> replays = new ConcurrentHashMap<>();

  public BrokerEngine broker() {
    return broker;
  }

  /** The server's rules of which channels keep history and track presence. */
  public void setChannelFeatures(ChannelFeatures features) {
    this.features = features;
  }

  public ChannelFeatures channelFeatures() {
    return features;
  }

  /** The channel's history, or null when it keeps none. */
  public HistoryOptions historyOf(String channel) {
    ChannelFeatures rules = features;
    return rules == null ? null : rules.historyOf(channel);
  }

  // ---- publishing ----

  /**
   * Publishes to every subscriber of the channel; completes once they all have it queued. On a
   * history channel the publication gets its position first (a failure is then a warning).
   */
  public CompletionStage<Void> transmitPublish(String channel, Object data) {
    countPublish();
    HistoryOptions history = historyOf(channel);
    if (history == null) {
      return broker.transmitPublish(channel, data);
    }
    broker.publishWithHistory(channel, data, history).whenComplete((position, error) -> {
      if (error != null) {
        errors.accept(error);
      }
    });
    return CompletableFuture.completedFuture(null);
  }

  /** As transmitPublish; fails if the broker could not take the message. */
  public CompletionStage<Void> invokePublish(String channel, Object data) {
    countPublish();
    HistoryOptions history = historyOf(channel);
    if (history == null) {
      return broker.invokePublish(channel, data);
    }
    return broker.publishWithHistory(channel, data, history).thenApply(position -> null);
  }

  /**
   * Publishes on a history channel and completes with the publication's position; on a channel
   * without history it fails with InvalidActionError.
   */
  public CompletionStage<StreamPosition> publishWithPosition(String channel, Object data) {
    HistoryOptions history = historyOf(channel);
    if (history == null) {
      return CompletableFuture.failedFuture(noHistory(channel));
    }
    countPublish();
    return broker.publishWithHistory(channel, data, history);
  }

  // ---- history and presence ----

  /**
   * The channel's history: its latest {@code limit} publications (all it keeps when
   * {@code limit <= 0}), or with {@code since} those after it (failing with
   * UnrecoverablePositionError when they cannot all be given). A channel without history fails
   * with InvalidActionError.
   */
  public CompletionStage<HistoryPage> history(String channel, StreamPosition since, int limit) {
    HistoryOptions history = historyOf(channel);
    if (history == null) {
      return CompletableFuture.failedFuture(noHistory(channel));
    }
    return broker.history(channel, since, limit, history);
  }

  /** Every socket subscribed to the channel, on every instance; InvalidActionError if it tracks no presence. */
  public CompletionStage<List<PresenceMember>> presence(String channel) {
    ChannelFeatures rules = features;
    if (rules == null || !rules.tracksPresence(channel)) {
      return CompletableFuture.failedFuture(io.agserver.protocol.AGError.invalidAction(
          "The " + channel + " channel does not track presence"));
    }
    return broker.presence(channel);
  }

  private static io.agserver.protocol.AGError noHistory(String channel) {
    return io.agserver.protocol.AGError.invalidAction("The " + channel + " channel keeps no history");
  }

  // ---- subscriptions ----

  /**
   * Subscribes the exchange to the channel (if it is not already) and returns the channel. As in
   * the original, the channel is subscribed at once; an engine that must confirm with a remote
   * broker (Redis) delivers from the moment it has, and a failure to confirm is reported as a
   * warning while the engine keeps trying.
   *
   * <p>The state change and the broker's call happen in one step on the channel's entry, so a
   * concurrent unsubscribe cannot leave the broker holding a channel the exchange has left.
   */
  public AGChannel subscribe(String channelName) {
    subscribed(channelName);
    return new AGChannel(channelName, this);
  }

  /**
   * Subscribes to a history channel and recovers from {@code since} (a position an application
   * kept, e.g. the last publication it stored before a restart): the channel's streams get the
   * publications after {@code since} first, in order, then the live ones, none twice. Completes
   * with the channel's position when the missed ones were read; fails with
   * UnrecoverablePositionError when they cannot all be given (the channel is subscribed and live
   * anyway, from now on), InvalidActionError on a channel without history, IllegalStateException
   * if the exchange already holds the channel (its consumers would get some publications twice).
   */
  public CompletionStage<StreamPosition> subscribe(String channelName, StreamPosition since) {
    if (historyOf(channelName) == null) {
      return CompletableFuture.failedFuture(noHistory(channelName));
    }
    Replay replay = new Replay();
    if (replays.putIfAbsent(channelName, replay) != null || channelStates.containsKey(channelName)) {
      replays.remove(channelName, replay);
      return CompletableFuture.failedFuture(new IllegalStateException("The exchange already holds the "
          + channelName + " channel: recover before subscribing to it"));
    }
    CompletionStage<Void> confirmed = subscribed(channelName);
    if (confirmed == null) {
      confirmed = CompletableFuture.completedFuture(null);
    }
    CompletableFuture<StreamPosition> result = new CompletableFuture<>();
    confirmed.thenCompose(ok -> history(channelName, since, 0)).whenComplete((page, failure) -> {
      if (failure == null) {
        if (replay.finish(channelName, page.publications(), page.position())) {
          result.complete(page.position());
        } else {
          result.completeExceptionally(incomplete(channelName));
        }
        return;
      }
      // Live from now on, whatever happened to the replay.
      history(channelName, null, 1).whenComplete((latest, again) -> {
        replay.finish(channelName, List.of(), latest != null ? latest.position() : new StreamPosition(0, ""));
        result.completeExceptionally(failure instanceof java.util.concurrent.CompletionException
            && failure.getCause() != null ? failure.getCause() : failure);
      });
    });
    return result;
  }

  /** Subscribes (if not yet); the broker's confirmation when this call subscribed, else null. */
  private CompletionStage<Void> subscribed(String channelName) {
    @SuppressWarnings("unchecked")
    CompletionStage<Void>[] added = new CompletionStage[1];
    channelStates.compute(channelName, (name, state) -> {
      if (state != null) {
        return state;
      }
      added[0] = broker.subscribeSocket(this, name);
      return AGChannel.SUBSCRIBED;
    });
    if (added[0] != null) {
      // Outside the step: a failure known at once reaches application code (warning observers),
      // which must not run while the channel's entry is locked.
      added[0].whenComplete((ok, error) -> {
        if (error != null) {
          errors.accept(error);
        }
      });
      channelEvents.write(listenerStream(channelName, "subscribe"), new SubscribeEvent(channelName));
      emit("subscribe", new SubscribeEvent(channelName));
    }
    return added[0];
  }

  /** The error of a replay whose live publications overflowed while it was read. */
  private static io.agserver.protocol.AGError incomplete(String channel) {
    return io.agserver.protocol.AGError.unrecoverablePosition("More publications of the " + channel
        + " channel arrived during its recovery than could wait: some were dropped");
  }

  public CompletionStage<Void> unsubscribe(String channelName) {
    replays.remove(channelName);
    boolean[] removed = new boolean[1];
    channelStates.computeIfPresent(channelName, (name, state) -> {
      removed[0] = AGChannel.SUBSCRIBED.equals(state);
      broker.unsubscribeSocket(this, name);
      return null;
    });
    if (removed[0]) {
      channelEvents.write(listenerStream(channelName, "unsubscribe"), new UnsubscribeEvent(channelName));
      emit("unsubscribe", new UnsubscribeEvent(channelName));
    }
    // Its own stage: a shared completed one would carry one caller's obtrude to every other.
    return CompletableFuture.completedFuture(null);
  }

  /** The channel, subscribed or not. */
  public AGChannel channel(String channelName) {
    return new AGChannel(channelName, this);
  }

  public String getChannelState(String channelName) {
    return channelStates.getOrDefault(channelName, AGChannel.UNSUBSCRIBED);
  }

  public Map<String, Object> getChannelOptions(String channelName) {
    return Map.of();
  }

  /** Channels the exchange is subscribed to (and pending ones when asked). */
  public List<String> subscriptions(boolean includePending) {
    List<String> names = new ArrayList<>();
    channelStates.forEach((name, state) -> {
      if (includePending || AGChannel.SUBSCRIBED.equals(state)) {
        names.add(name);
      }
    });
    return names;
  }

  public List<String> subscriptions() {
    return subscriptions(false);
  }

  public boolean isSubscribed(String channelName, boolean includePending) {
    String state = channelStates.get(channelName);
    return includePending ? state != null : AGChannel.SUBSCRIBED.equals(state);
  }

  public boolean isSubscribed(String channelName) {
    return isSubscribed(channelName, false);
  }

  // ---- the exchange's own listeners (subscribe, unsubscribe) come from AsyncStreamEmitter ----

  public int getBackpressure() {
    return Math.max(getAllListenersBackpressure(), getAllChannelsBackpressure());
  }

  // ---- channel streams ----

  AGStream<Object> channelOutput(String channelName) {
    return channelData.stream(channelName);
  }

  AGStream<AGPublication> channelPublications(String channelName) {
    return channelPublications.stream(channelName);
  }

  @SuppressWarnings("unchecked")
  <E> AGStream<E> channelListener(String channelName, String eventName) {
    return (AGStream<E>) channelEvents.stream(listenerStream(channelName, eventName));
  }

  public void closeChannel(String channelName) {
    channelCloseOutput(channelName);
    channelCloseAllListeners(channelName);
  }

  public void killChannel(String channelName) {
    channelKillOutput(channelName);
    channelKillAllListeners(channelName);
  }

  public void closeAllChannelOutputs() {
    channelData.closeAll();
    channelPublications.closeAll();
  }

  public void closeAllChannelListeners() {
    channelEvents.closeAll();
  }

  public void closeAllChannels() {
    closeAllChannelOutputs();
    closeAllChannelListeners();
  }

  public void killAllChannelOutputs() {
    channelData.killAll();
    channelPublications.killAll();
  }

  public void killAllChannelListeners() {
    channelEvents.killAll();
  }

  public void killAllChannels() {
    killAllChannelOutputs();
    killAllChannelListeners();
  }

  public void killChannelOutputConsumer(long consumerId) {
    channelData.killConsumer(consumerId);
  }

  public void killChannelListenerConsumer(long consumerId) {
    channelEvents.killConsumer(consumerId);
  }

  public Optional<ConsumerStats> getChannelOutputConsumerStats(long consumerId) {
    return channelData.getConsumerStats(consumerId);
  }

  public Optional<ConsumerStats> getChannelListenerConsumerStats(long consumerId) {
    return channelEvents.getConsumerStats(consumerId);
  }

  public List<ConsumerStats> getAllChannelOutputsConsumerStatsList() {
    return channelData.getConsumerStatsListAll();
  }

  public List<ConsumerStats> getAllChannelListenersConsumerStatsList() {
    return channelEvents.getConsumerStatsListAll();
  }

  public int getChannelBackpressure(String channelName) {
    return Math.max(channelGetOutputBackpressure(channelName), channelGetAllListenersBackpressure(channelName));
  }

  public int getAllChannelOutputsBackpressure() {
    return channelData.getBackpressureAll();
  }

  public int getAllChannelListenersBackpressure() {
    return channelEvents.getBackpressureAll();
  }

  public int getAllChannelsBackpressure() {
    return Math.max(getAllChannelOutputsBackpressure(), getAllChannelListenersBackpressure());
  }

  public int getChannelListenerConsumerBackpressure(long consumerId) {
    return channelEvents.getConsumerBackpressure(consumerId);
  }

  public int getChannelOutputConsumerBackpressure(long consumerId) {
    return channelData.getConsumerBackpressure(consumerId);
  }

  public boolean hasAnyChannelOutputConsumer(long consumerId) {
    return channelData.hasConsumerAll(consumerId);
  }

  public boolean hasAnyChannelListenerConsumer(long consumerId) {
    return channelEvents.hasConsumerAll(consumerId);
  }

  /**
   * The name of a channel's listener stream in {@link #channelEvents}: {@code channel/event}, as
   * the original names them, with {@code \} and {@code /} in the channel name escaped by a
   * backslash. Without that, channel {@code a/b} with event {@code c} and channel {@code a} with
   * event {@code b/c} would share one stream, and channel {@code a}'s listeners would take in
   * those of {@code a/b}. Escaped, the first unescaped slash ends the channel name, so the
   * prefix {@code escaped(channel) + "/"} picks out exactly that channel's streams. Names
   * without either character (nearly all) are kept as they are, and cost no copy.
   */
  private static String listenerStream(String channelName, String eventName) {
    return escapeChannel(channelName) + "/" + eventName;
  }

  private static String escapeChannel(String channelName) {
    int length = channelName.length();
    int i = 0;
    while (i < length && channelName.charAt(i) != '/' && channelName.charAt(i) != '\\') {
      i++;
    }
    if (i == length) {
      return channelName;
    }
    StringBuilder escaped = new StringBuilder(length + 8).append(channelName, 0, i);
    for (; i < length; i++) {
      char c = channelName.charAt(i);
      if (c == '/' || c == '\\') {
        escaped.append('\\');
      }
      escaped.append(c);
    }
    return escaped.toString();
  }

  /** The listener streams of a channel that have consumers. */
  private Set<String> channelStreamNames(String channelName) {
    String prefix = escapeChannel(channelName) + "/";
    Set<String> names = new LinkedHashSet<>();
    for (ConsumerStats stats : channelEvents.getConsumerStatsListAll()) {
      if (stats.stream().startsWith(prefix)) {
        names.add(stats.stream());
      }
    }
    return names;
  }

  public void channelCloseOutput(String channelName) {
    channelData.close(channelName);
    channelPublications.close(channelName);
  }

  public void channelCloseListener(String channelName, String eventName) {
    channelEvents.close(listenerStream(channelName, eventName));
  }

  public void channelCloseAllListeners(String channelName) {
    channelStreamNames(channelName).forEach(channelEvents::close);
  }

  public void channelKillOutput(String channelName) {
    channelData.kill(channelName);
    channelPublications.kill(channelName);
  }

  public void channelKillListener(String channelName, String eventName) {
    channelEvents.kill(listenerStream(channelName, eventName));
  }

  public void channelKillAllListeners(String channelName) {
    channelStreamNames(channelName).forEach(channelEvents::kill);
  }

  public List<ConsumerStats> channelGetOutputConsumerStatsList(String channelName) {
    return channelData.getConsumerStatsList(channelName);
  }

  public List<ConsumerStats> channelGetListenerConsumerStatsList(String channelName, String eventName) {
    return channelEvents.getConsumerStatsList(listenerStream(channelName, eventName));
  }

  public List<ConsumerStats> channelGetAllListenersConsumerStatsList(String channelName) {
    List<ConsumerStats> all = new ArrayList<>();
    for (String stream : channelStreamNames(channelName)) {
      all.addAll(channelEvents.getConsumerStatsList(stream));
    }
    return all;
  }

  public int channelGetOutputBackpressure(String channelName) {
    return channelData.getBackpressure(channelName);
  }

  public int channelGetListenerBackpressure(String channelName, String eventName) {
    return channelEvents.getBackpressure(listenerStream(channelName, eventName));
  }

  public int channelGetAllListenersBackpressure(String channelName) {
    int max = 0;
    for (String stream : channelStreamNames(channelName)) {
      max = Math.max(max, channelEvents.getBackpressure(stream));
    }
    return max;
  }

  public boolean channelHasOutputConsumer(String channelName, long consumerId) {
    return channelData.hasConsumer(channelName, consumerId);
  }

  public boolean channelHasListenerConsumer(String channelName, String eventName, long consumerId) {
    return channelEvents.hasConsumer(listenerStream(channelName, eventName), consumerId);
  }

  public boolean channelHasAnyListenerConsumer(String channelName, long consumerId) {
    return channelStreamNames(channelName).stream()
        .anyMatch(stream -> channelEvents.hasConsumer(stream, consumerId));
  }
}
