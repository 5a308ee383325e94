package io.agserver.pubsub;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import io.agserver.protocol.AGCodec;
import io.agserver.protocol.JsonCodec;

/**
 * The in-memory broker of one instance. A publish is encoded once and the same frame is handed
 * to every subscriber of its channel; the subscriber list of a channel is an array replaced on
 * change, so a publish reads it without a lock and a fan-out to many subscribers never blocks
 * subscribes, unsubscribes or publishes on any channel.
 */
public final class AGSimpleBroker implements BrokerEngine {

  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);
  private static final AGSubscriber[] NONE = new AGSubscriber[0];

  /** One channel's subscribers; modified under its own lock only. */
  private static final class Channel {
    volatile AGSubscriber[] subscribers = NONE;
    boolean removed;
  }

  private final Map<String, Channel> channels = new ConcurrentHashMap<>();
  private final List<Consumer<Throwable>> errorHandlers = new CopyOnWriteArrayList<>();
  private volatile AGCodec codec = JsonCodec.instance();

  @Override
  public CompletionStage<Void> subscribeSocket(AGSubscriber subscriber, String channelName) {
    while (true) {
      Channel channel = channels.computeIfAbsent(channelName, name -> new Channel());
      synchronized (channel) {
        if (channel.removed) {
          continue; // emptied and dropped meanwhile: take the new one
        }
        AGSubscriber[] current = channel.subscribers;
        for (AGSubscriber existing : current) {
          if (existing.id().equals(subscriber.id())) {
            return DONE;
          }
        }
        AGSubscriber[] next = Arrays.copyOf(current, current.length + 1);
        next[current.length] = subscriber;
        channel.subscribers = next;
        return DONE;
      }
    }
  }

  @Override
  public CompletionStage<Void> unsubscribeSocket(AGSubscriber subscriber, String channelName) {
    Channel channel = channels.get(channelName);
    if (channel == null) {
      return DONE;
    }
    synchronized (channel) {
      AGSubscriber[] current = channel.subscribers;
      int index = -1;
      for (int i = 0; i < current.length; i++) {
        if (current[i].id().equals(subscriber.id())) {
          index = i;
          break;
        }
      }
      if (index < 0) {
        return DONE;
      }
      if (current.length == 1) {
        channel.subscribers = NONE;
        channel.removed = true;
        channels.remove(channelName, channel);
        return DONE;
      }
      AGSubscriber[] next = new AGSubscriber[current.length - 1];
      System.arraycopy(current, 0, next, 0, index);
      System.arraycopy(current, index + 1, next, index, current.length - index - 1);
      channel.subscribers = next;
    }
    return DONE;
  }

  @Override
  public CompletionStage<Void> transmitPublish(String channelName, Object data) {
    Channel channel = channels.get(channelName);
    if (channel == null) {
      return DONE;
    }
    AGSubscriber[] subscribers = channel.subscribers;
    if (subscribers.length == 0) {
      return DONE;
    }
    String encoded;
    try {
      encoded = codec.encode(publishPacket(channelName, data));
    } catch (RuntimeException e) {
      errorHandlers.forEach(handler -> handler.accept(e));
      return DONE;
    }
    for (AGSubscriber subscriber : subscribers) {
      subscriber.deliverPublish(channelName, data, encoded);
    }
    return DONE;
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
    Channel found = channels.get(channel);
    return found != null && found.subscribers.length > 0;
  }

  /** Local subscribers of a channel. */
  public int subscriberCount(String channel) {
    Channel found = channels.get(channel);
    return found == null ? 0 : found.subscribers.length;
  }

  @Override
  public void setCodecEngine(AGCodec codec) {
    this.codec = codec;
  }

  @Override
  public CompletionStage<Void> ready() {
    return DONE;
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
