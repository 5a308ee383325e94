package io.agserver.pubsub;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The channels this instance's subscribers hold, each with its subscribers and a state of the
 * engine's own (the Redis engine keeps Redis's confirmation there): what every broker engine
 * keeps locally.
 *
 * <p>A publish reaches a channel's subscribers in the order they subscribed, as in the original
 * server (ag-simple-broker keeps a channel's sockets in an object keyed by socket id, and a
 * JavaScript object iterates such keys in insertion order); one who unsubscribes and subscribes
 * again goes last. So the clients that have long been on a channel are not served behind a crowd
 * that joined it later: a thousand subscribers that arrive at once, and perhaps never read, delay
 * the earlier ones' deliveries by nothing. Each channel holds its subscribers in a concurrent
 * sorted map keyed by the order of their subscription, and their ids in a concurrent map, so a
 * subscribe or an unsubscribe costs little more with a hundred thousand subscribers than with ten
 * (a logarithm), and a delivery iterates without a lock: it reaches every subscriber whose
 * subscribe returned before it started, once, and none whose unsubscribe returned before it
 * started (the sorted map's iterator sees each entry present when it starts once, and no entry
 * removed before; it stops at the last place given when it started, so one who leaves and joins
 * again meanwhile is not reached twice).
 *
 * <p>Every change to a channel (a subscriber added or removed, its state replaced) goes through
 * {@code compute} on the channel's entry, and so do the engine's callbacks for it: the first
 * subscriber's, the last one's, the engine's checks of what its broker confirmed. So the step that drops an
 * emptied channel and a subscribe to it are serialised (a subscriber never lands in a channel
 * that has just been dropped, and a held channel always has a subscriber), and what an engine
 * does in those callbacks (send SUBSCRIBE, UNSUBSCRIBE) happens in the order of the changes.
 * Callbacks must not block, nor touch this channel again.
 *
 * @param <T> the engine's state of a channel
 */
public final class LocalChannels<T> {

  private static final class Channel<T> {
    /** The subscribers by the order of their subscription, what a delivery walks. */
    final ConcurrentSkipListMap<Long, AGSubscriber> inOrder = new ConcurrentSkipListMap<>();
    /**
     * Each subscriber's key in {@link #inOrder}, by subscriber id. Sized for one: most channels
     * (a user's, a room's) have few subscribers, and the map grows by doubling when one has many.
     */
    final ConcurrentHashMap<String, Long> order = new ConcurrentHashMap<>(1);
    T state;
  }

  private final ConcurrentHashMap<String, Channel<T>> channels = new ConcurrentHashMap<>();
  /**
   * Subscriptions so far on every channel: each one's place, in the order they came. A delivery
   * walks the places up to the last one given when it starts, so that a subscriber it already
   * reached, who unsubscribes and subscribes again meanwhile (and so goes last), is not reached
   * twice.
   */
  private final AtomicLong subscriptions = new AtomicLong();

  /**
   * Adds the subscriber (one already there stays as it is: subscribing twice delivers once).
   * {@code first} makes the state of a channel that had no subscriber.
   *
   * @return the channel's state
   */
  public T add(String channelName, AGSubscriber subscriber, Function<String, T> first) {
    String id = subscriber.id();
    @SuppressWarnings("unchecked")
    T[] state = (T[]) new Object[1];
    channels.compute(channelName, (name, channel) -> {
      Channel<T> target = channel;
      if (target == null) {
        target = new Channel<>();
        target.state = first.apply(name);
      }
      Channel<T> held = target;
      held.order.computeIfAbsent(id, key -> {
        Long place = subscriptions.incrementAndGet();
        held.inOrder.put(place, subscriber);
        return place;
      });
      state[0] = target.state;
      return target;
    });
    return state[0];
  }

  /** Removes the subscriber; {@code last} runs when the channel has none left, and it is dropped. */
  public void remove(String channelName, AGSubscriber subscriber, Consumer<String> last) {
    String id = subscriber.id();
    channels.computeIfPresent(channelName, (name, channel) -> {
      Long place = channel.order.remove(id);
      if (place != null) {
        channel.inOrder.remove(place);
      }
      if (!channel.order.isEmpty()) {
        return channel;
      }
      last.accept(name);
      return null;
    });
  }

  /** Replaces a held channel's state; nothing for a channel nobody holds. */
  public void updateState(String channelName, UnaryOperator<T> change) {
    channels.computeIfPresent(channelName, (name, channel) -> {
      channel.state = change.apply(channel.state);
      return channel;
    });
  }

  /**
   * One step on a channel whatever its holding: {@code absent} runs if nobody holds it,
   * {@code held} replaces the state of a held one. No subscribe or unsubscribe interleaves.
   */
  public void check(String channelName, Consumer<String> absent, UnaryOperator<T> held) {
    channels.compute(channelName, (name, channel) -> {
      if (channel == null) {
        absent.accept(name);
      } else {
        channel.state = held.apply(channel.state);
      }
      return channel;
    });
  }

  /**
   * Hands one publish to every subscriber of the channel; a subscriber that throws costs the
   * others nothing, its failure goes to {@code errors}.
   */
  public void deliver(String channelName, Object data, String encoded, Consumer<Throwable> errors) {
    Channel<T> channel = channels.get(channelName);
    if (channel == null) {
      return;
    }
    for (AGSubscriber subscriber : upToNow(channel)) {
      try {
        subscriber.deliverPublish(channelName, data, encoded);
      } catch (RuntimeException e) {
        errors.accept(e);
      }
    }
  }

  /** As {@link #deliver}, for a publication at {@code position} of a history channel. */
  public void deliverPublication(String channelName, Object data, String encoded, StreamPosition position,
      Consumer<Throwable> errors) {
    Channel<T> channel = channels.get(channelName);
    if (channel == null) {
      return;
    }
    for (AGSubscriber subscriber : upToNow(channel)) {
      try {
        subscriber.deliverPublication(channelName, data, encoded, position);
      } catch (RuntimeException e) {
        errors.accept(e);
      }
    }
  }

  /** The channel's subscribers in order, those who subscribed from now on left out. */
  private Iterable<AGSubscriber> upToNow(Channel<T> channel) {
    return channel.inOrder.headMap(subscriptions.get(), true).values();
  }

  public boolean contains(String channelName) {
    return channels.containsKey(channelName);
  }

  public List<String> names() {
    return new ArrayList<>(channels.keySet());
  }

  public int size() {
    return channels.size();
  }

  public int subscriberCount(String channelName) {
    Channel<T> found = channels.get(channelName);
    return found == null ? 0 : found.order.size();
  }

  public void clear() {
    channels.clear();
  }
}
