package io.agserver.redis;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.agserver.pubsub.StreamPosition;

/**
 * The order in which this instance's subscribers of a history channel get its publications: by
 * offset, each once, the missing ones read from the history first.
 *
 * <p>Publications reach this instance two ways: from Redis's subscription connection (the other
 * instances' and, echoed, this one's), in the order Redis ran the publishes, and from the replies to
 * this instance's own publishes, on another connection, which may overtake the former. So the
 * subscription connection is what orders: an own publication waits until its echo arrives (both
 * leave Redis at the same moment), or, when the echo does not come (the subscription is lost), for
 * {@code recheck} to call {@link #timedOut}. A publication that arrives on the subscription
 * connection after a gap tells that the publications in the gap are lost (a Redis outage, a
 * dropped message): they are read from the history ({@link Sink#readGap}) and delivered first.
 * After a subscription is renewed ({@link #resubscribed}), what was published meanwhile is read
 * the same way.
 *
 * <p>Not thread-safe: called only in the turns of {@link InboundMessages}, one at a time.
 */
final class PublicationOrder {

  /** A publication; {@code data} null when it is still to be decoded from {@code frame}. */
  record Item(String channel, Object data, String frame, StreamPosition position, boolean fromSubscription) {}

  /** A publication read from the history to fill a gap. */
  record Entry(long offset, String frame) {}

  interface Sink {
    void deliver(Item item);

    /** Reads the publications after {@code since}; the answer comes back through {@link #repaired}. */
    void readGap(String channel, StreamPosition since);

    /** Calls {@link #timedOut} for the channel a while from now. */
    void recheck(String channel);

    /** Reports publications that could not be recovered. */
    void lost(String channel, StreamPosition since, String why);
  }

  private static final class State {
    StreamPosition last;
    final TreeMap<Long, Item> held = new TreeMap<>();
    boolean repairing;
    boolean recheckPending;
  }

  private final Map<String, State> states = new HashMap<>();
  private final Sink sink;

  PublicationOrder(Sink sink) {
    this.sink = sink;
  }

  void arrived(Item item) {
    State state = states.computeIfAbsent(item.channel(), name -> new State());
    StreamPosition position = item.position();
    if (state.last != null && !state.last.epoch().equals(position.epoch())) {
      if (!item.fromSubscription()) {
        // A reply of another epoch than the last delivered: placed once the subscription tells.
        hold(state, item);
        return;
      }
      // A new epoch (the history was lost): what is held of the old one goes first, nothing
      // before the new one can be read any more, and a gap read of the old one is moot. Held
      // publications of the new epoch (own ones waiting for this echo) stay held: the echo
      // places them.
      flush(state, state.last.epoch());
      state.last = null;
      state.repairing = false;
    }
    if (state.last == null) {
      if (!item.fromSubscription()) {
        // Nothing seen yet: an earlier publication may still be on its way on the subscription.
        hold(state, item);
        return;
      }
      // The first on the subscription: own publications held before it (made before this
      // instance's subscription took effect) go first.
      while (!state.held.isEmpty() && state.held.firstKey() < position.offset()) {
        Item earlier = state.held.pollFirstEntry().getValue();
        state.last = earlier.position();
        sink.deliver(earlier);
      }
      deliver(state, state.held.getOrDefault(position.offset(), item));
      release(state);
      return;
    }
    long next = state.last.offset() + 1;
    if (position.offset() < next) {
      // Delivered already (the echo of an own publication, or one read from the history).
      return;
    }
    if (position.offset() == next && !state.repairing) {
      deliver(state, state.held.getOrDefault(position.offset(), item));
      release(state);
      return;
    }
    hold(state, item);
    if (item.fromSubscription() && !state.repairing) {
      // Everything published before it has come on the subscription, or is lost: read the gap.
      repair(state, item.channel());
    }
  }

  /** A renewed subscription may have missed publications: read what came after the last one. */
  void resubscribed(String channel) {
    State state = states.get(channel);
    if (state != null && state.last != null && !state.repairing) {
      repair(state, channel);
    }
  }

  /** The end of a wait for an echo: what is held is delivered, a gap before it read first. */
  void timedOut(String channel) {
    State state = states.get(channel);
    if (state == null) {
      return;
    }
    state.recheckPending = false;
    if (state.held.isEmpty() || state.repairing) {
      return;
    }
    if (state.last == null || !state.last.epoch().equals(state.held.firstEntry().getValue().position().epoch())) {
      state.last = null;
      flush(state);
      return;
    }
    release(state);
    if (!state.held.isEmpty()) {
      repair(state, channel);
    }
  }

  /**
   * The answer of {@link Sink#readGap}: the publications after the last one delivered, in
   * {@code epoch}; {@code entries} null and {@code failure} when they could not be read.
   */
  void repaired(String channel, String epoch, List<Entry> entries, String failure) {
    State state = states.get(channel);
    if (state == null || !state.repairing) {
      return;
    }
    state.repairing = false;
    if (entries != null && state.last != null && state.last.epoch().equals(epoch)) {
      for (Entry entry : entries) {
        if (entry.offset() == state.last.offset() + 1) {
          StreamPosition position = new StreamPosition(entry.offset(), epoch);
          deliver(state, state.held.getOrDefault(entry.offset(),
              new Item(channel, null, entry.frame(), position, true)));
        }
      }
      release(state);
      if (!state.held.isEmpty()) {
        if (state.held.firstEntry().getValue().fromSubscription()) {
          // A gap that opened while the history was read.
          repair(state, channel);
        } else if (!state.recheckPending) {
          state.recheckPending = true;
          sink.recheck(channel);
        }
      }
      return;
    }
    if (!state.held.isEmpty()) {
      // What the history no longer has is lost: the rest is delivered, in order.
      if (state.last != null) {
        sink.lost(channel, state.last, failure != null ? failure : "the channel's history is in another epoch");
      }
      flush(state);
    }
  }

  /** The channel has no subscriber here any more. */
  void forget(String channel) {
    states.remove(channel);
  }

  private void repair(State state, String channel) {
    state.repairing = true;
    sink.readGap(channel, state.last);
  }

  private void hold(State state, Item item) {
    state.held.putIfAbsent(item.position().offset(), item);
    if (!state.recheckPending) {
      state.recheckPending = true;
      sink.recheck(item.channel());
    }
  }

  private void deliver(State state, Item item) {
    state.held.remove(item.position().offset());
    state.last = item.position();
    sink.deliver(item);
  }

  /** Delivers the held publications that follow the last one without a gap. */
  private void release(State state) {
    while (state.last != null && !state.held.isEmpty() && state.held.firstKey() == state.last.offset() + 1) {
      Item next = state.held.firstEntry().getValue();
      if (!next.position().epoch().equals(state.last.epoch())) {
        break;
      }
      deliver(state, next);
    }
    // Those the last one passed were delivered already.
    while (state.last != null && !state.held.isEmpty() && state.held.firstKey() <= state.last.offset()
        && state.held.firstEntry().getValue().position().epoch().equals(state.last.epoch())) {
      state.held.pollFirstEntry();
    }
  }

  /** Delivers what is held of {@code epoch}, in offset order; the rest stays held. */
  private void flush(State state, String epoch) {
    java.util.Iterator<Item> it = state.held.values().iterator();
    List<Item> old = new java.util.ArrayList<>();
    while (it.hasNext()) {
      Item next = it.next();
      if (next.position().epoch().equals(epoch)) {
        it.remove();
        old.add(next);
      }
    }
    for (Item item : old) {
      state.last = item.position();
      sink.deliver(item);
    }
  }

  /** Delivers everything held, in offset order. */
  private void flush(State state) {
    while (!state.held.isEmpty()) {
      Item next = state.held.pollFirstEntry().getValue();
      state.last = next.position();
      sink.deliver(next);
    }
  }
}
