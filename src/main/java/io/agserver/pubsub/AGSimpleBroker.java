package io.agserver.pubsub;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import io.agserver.codec.AGCodec;
import io.agserver.codec.JsonCodec;

/**
 * The in-memory broker of one instance. A publish is encoded once and the same frame is handed
 * to every subscriber of its channel.
 *
 * <p>Each channel holds its subscribers in a concurrent map keyed by subscriber id, so a
 * subscribe or an unsubscribe costs the same with ten subscribers or a hundred thousand, and a
 * publish iterates the map without a lock: it reaches every subscriber whose subscribe returned
 * before the publish started, once, and none whose unsubscribe returned before it started (the
 * map's iterator sees each entry present when it starts once, and no entry removed before).
 * Subscribes and unsubscribes
 * on one channel go through {@code compute} on the channel's entry, so the step that drops an
 * emptied channel and a subscribe to it are serialised: a subscriber never lands in a channel
 * that has just been dropped, and a channel in the map always has a subscriber.
 */
public final class AGSimpleBroker implements BrokerEngine {

  /** One channel's subscribers, changed only inside {@code compute} on its entry in {@link #channels}. */
  private static final class Channel {
    // Sized for one: most channels (a user's, a room's) have few subscribers, and the map grows
    // by doubling when one has many.
    final ConcurrentHashMap<String, AGSubscriber> subscribers = new ConcurrentHashMap<>(1);
  }

  private final ConcurrentHashMap<String, Channel> channels = new ConcurrentHashMap<>();
  private final List<Consumer<Throwable>> errorHandlers = new CopyOnWriteArrayList<>();
  private volatile AGCodec codec = JsonCodec.instance();

  // Every public method returns a stage of its own: a completed constant shared by all callers
  // would let one caller's obtrudeException or complete poison every later call.
  private static CompletableFuture<Void> done() {
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletionStage<Void> subscribeSocket(AGSubscriber subscriber, String channelName) {
    String id = subscriber.id();
    channels.compute(channelName, (name, channel) -> {
      Channel target = channel == null ? new Channel() : channel;
      // A subscriber already there stays as it is: subscribing twice delivers once.
      target.subscribers.putIfAbsent(id, subscriber);
      return target;
    });
    return done();
  }

  @Override
  public CompletionStage<Void> unsubscribeSocket(AGSubscriber subscriber, String channelName) {
    String id = subscriber.id();
    channels.computeIfPresent(channelName, (name, channel) -> {
      channel.subscribers.remove(id);
      // Exact here: every change to this map happens under this same entry's lock.
      return channel.subscribers.isEmpty() ? null : channel;
    });
    return done();
  }

  @Override
  public CompletionStage<Void> transmitPublish(String channelName, Object data) {
    Channel channel = channels.get(channelName);
    if (channel == null) {
      return done();
    }
    String encoded;
    try {
      encoded = codec.encode(publishPacket(channelName, data));
    } catch (RuntimeException e) {
      errorHandlers.forEach(handler -> handler.accept(e));
      return done();
    }
    for (AGSubscriber subscriber : channel.subscribers.values()) {
      try {
        subscriber.deliverPublish(channelName, data, encoded);
      } catch (RuntimeException e) {
        // One subscriber's failure must not cost the others this publish.
        errorHandlers.forEach(handler -> handler.accept(e));
      }
    }
    return done();
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
