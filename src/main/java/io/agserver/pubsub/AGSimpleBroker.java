package io.agserver.pubsub;

import java.util.LinkedHashMap;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import io.agserver.codec.AGCodec;
import io.agserver.codec.JsonCodec;

/**
 * The in-memory broker of one instance. A publish is encoded once and the same frame is handed
 * to every subscriber of its channel ({@link LocalChannels} says what a publish reaches when
 * subscribers come and go meanwhile).
 */
public final class AGSimpleBroker implements BrokerEngine {

  private final LocalChannels<Void> channels = new LocalChannels<>();
  private final MemoryHistory history;
  private final MemoryPresence presence = new MemoryPresence();

  public AGSimpleBroker() {
    this(InstantSource.system());
  }

  /** @param clock what "now" is for the ttl of histories */
  public AGSimpleBroker(InstantSource clock) {
    this.history = new MemoryHistory(clock);
  }
  private final List<Consumer<Throwable>> errorHandlers = new CopyOnWriteArrayList<>();
  private volatile AGCodec codec = JsonCodec.instance();

  // Every public method returns a stage of its own: a completed constant shared by all callers
  // would let one caller's obtrudeException or complete poison every later call.
  private static CompletableFuture<Void> done() {
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletionStage<Void> subscribeSocket(AGSubscriber subscriber, String channelName) {
    channels.add(channelName, subscriber, name -> null);
    return done();
  }

  @Override
  public CompletionStage<Void> unsubscribeSocket(AGSubscriber subscriber, String channelName) {
    channels.remove(channelName, subscriber, name -> {});
    return done();
  }

  @Override
  public CompletionStage<Void> transmitPublish(String channelName, Object data) {
    if (!channels.contains(channelName)) {
      return done();
    }
    String encoded;
    try {
      encoded = codec.encode(publishPacket(channelName, data));
    } catch (RuntimeException e) {
      errorHandlers.forEach(handler -> handler.accept(e));
      return done();
    }
    channels.deliver(channelName, data, encoded, error -> errorHandlers.forEach(handler -> handler.accept(error)));
    return done();
  }

  @Override
  public CompletionStage<StreamPosition> publishWithHistory(String channelName, Object data, HistoryOptions options) {
    String encoded;
    try {
      encoded = codec.encode(publishPacket(channelName, data));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    StreamPosition position = history.append(channelName, data, options, at ->
        channels.deliverPublication(channelName, data, encoded, at, this::report));
    return CompletableFuture.completedFuture(position);
  }

  @Override
  public CompletionStage<HistoryPage> history(String channelName, StreamPosition since, int limit, HistoryOptions options) {
    try {
      return CompletableFuture.completedFuture(history.read(channelName, since, limit, options));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public CompletionStage<Void> joinPresence(String channelName, PresenceMember member, java.time.Duration ttl) {
    presence.join(channelName, member);
    return done();
  }

  @Override
  public CompletionStage<Void> leavePresence(String channelName, String memberId) {
    presence.leave(channelName, memberId);
    return done();
  }

  @Override
  public CompletionStage<List<PresenceMember>> presence(String channelName) {
    return CompletableFuture.completedFuture(presence.members(channelName));
  }

  private void report(Throwable error) {
    errorHandlers.forEach(handler -> handler.accept(error));
  }

  /** The {@code #publish} packet as clients receive it. */
  public static Map<String, Object> publishPacket(String channel, Object data) {
    Map<String, Object> inner = new LinkedHashMap<>(4);
    inner.put("channel", channel);
    inner.put("data", data);
    Map<String, Object> packet = new LinkedHashMap<>(4);
    packet.put("event", "#publish");
    packet.put("data", inner);
    return packet;
  }

  @Override
  public CompletionStage<Void> invokePublish(String channel, Object data) {
    return transmitPublish(channel, data);
  }

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

  @Override
  public void setCodecEngine(AGCodec codec) {
    this.codec = codec;
  }

  @Override
  public CompletionStage<Void> ready() {
    return done();
  }

  @Override
  public void onError(Consumer<Throwable> handler) {
    errorHandlers.add(handler);
  }

  @Override
  public void close() {
    channels.clear();
  }
}
