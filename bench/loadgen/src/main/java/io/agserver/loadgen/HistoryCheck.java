package io.agserver.loadgen;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the soak's history subscriptions received, checked against the channels' offsets. Each
 * subscriber is a slot of the soak (a client that reconnects is the same subscriber: it keeps its
 * position, as an application does, and subscribes again with {@code {recover: position}}). A
 * history channel's offsets are consecutive across instances, so a subscriber must see every
 * offset after its first position exactly once and in order, whatever happened to its connection,
 * its instance or Redis: an offset skipped is lost, one seen again is a duplicate. A marker
 * ({@code {offset, epoch, recovered}}, after each subscribe) says where the server put the
 * subscriber; {@code recovered: false} or another epoch means the history could not bridge the
 * gap, which the soak counts apart (the application would reload).
 *
 * <p>Confined to the load generator's event loop.
 */
final class HistoryCheck {
  private final int[] channelOf;
  private final String[] epoch;
  private final long[] offset;
  private final long[] channelLast;
  private final String[] channelEpoch;
  private long delivered;
  private long lost;
  private long duplicates;
  private long markers;
  private long resumed;
  private long unrecovered;
  private long epochChanges;

  /** {@code channelOf[slot]}: the history channel of each slot, -1 for none. */
  HistoryCheck(int[] channelOf, int channels) {
    this.channelOf = channelOf.clone();
    this.epoch = new String[channelOf.length];
    this.offset = new long[channelOf.length];
    Arrays.fill(offset, -1);
    this.channelLast = new long[channels];
    this.channelEpoch = new String[channels];
  }

  /** A channel's last offset in its latest epoch (a new epoch, once in a long while, starts over). */
  private void seen(int slot, long at, String inEpoch) {
    int ch = channelOf[slot];
    if (!inEpoch.equals(channelEpoch[ch])) {
      channelEpoch[ch] = inEpoch;
      channelLast[ch] = at;
    } else {
      channelLast[ch] = Math.max(channelLast[ch], at);
    }
  }

  int channelOf(int slot) {
    return channelOf[slot];
  }

  /** The position a (re)subscription recovers from, as the {@code recover} object's JSON. */
  String position(int slot) {
    return epoch[slot] == null ? "{}" : "{\"offset\":" + offset[slot] + ",\"epoch\":\"" + epoch[slot] + "\"}";
  }

  /** A publication {@code {offset, epoch, data}} that reached the slot. */
  void publication(int slot, long at, String inEpoch) {
    seen(slot, at, inEpoch);
    if (epoch[slot] == null || !epoch[slot].equals(inEpoch)) {
      if (epoch[slot] != null) {
        epochChanges++;
      }
      epoch[slot] = inEpoch;
      offset[slot] = at;
      delivered++;
      return;
    }
    if (at <= offset[slot]) {
      duplicates++;
      return;
    }
    lost += at - offset[slot] - 1;
    offset[slot] = at;
    delivered++;
  }

  /**
   * The marker after a (re)subscribe: the replay is over and the subscriber stands at {@code at}.
   * After the first one, a complete replay leaves the subscriber exactly there.
   */
  void marker(int slot, long at, String inEpoch, boolean recovered) {
    markers++;
    seen(slot, at, inEpoch);
    if (epoch[slot] == null) {
      epoch[slot] = inEpoch;
      offset[slot] = at;
      return;
    }
    resumed++;
    if (!recovered || !epoch[slot].equals(inEpoch)) {
      unrecovered++;
      epoch[slot] = inEpoch;
      offset[slot] = at;
      return;
    }
    if (at > offset[slot]) {
      lost += at - offset[slot];
      offset[slot] = at;
    }
  }

  /** At the end, every subscriber should stand at its channel's last offset. */
  Map<String, Object> result() {
    long tail = 0;
    int subscribers = 0;
    for (int slot = 0; slot < channelOf.length; slot++) {
      if (channelOf[slot] < 0 || epoch[slot] == null) {
        continue;
      }
      subscribers++;
      if (epoch[slot].equals(channelEpoch[channelOf[slot]])) {
        tail += Math.max(0, channelLast[channelOf[slot]] - offset[slot]);
      } else {
        tail++; // it never reached the channel's latest epoch
      }
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("subscribers", subscribers);
    m.put("delivered", delivered);
    m.put("lost", lost + tail);
    m.put("lostAtTheEnd", tail);
    m.put("duplicates", duplicates);
    m.put("resubscribes", resumed);
    m.put("unrecovered", unrecovered);
    m.put("epochChanges", epochChanges);
    m.put("markers", markers);
    return m;
  }

  long lost() {
    return (long) result().get("lost");
  }
}
