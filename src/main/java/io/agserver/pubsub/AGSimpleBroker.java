package io.agserver.pubsub;

import java.util.LinkedHashMap;
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
  public int subscriberCount(String channel) {
    return channels.subscriberCount(channel);
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
