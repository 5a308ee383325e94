package io.agserver.ops.admin;

import java.util.ArrayList;
import java.util.List;

import io.agserver.ops.ServerFigures;

/**
 * The last minutes of a server's figures for the admin page's chart: a ring of at most
 * {@code capacity} samples, each what the server held when it was taken and the rates since the
 * sample before.
 *
 * <p>One writer (the sampler's job, on the server's workers; {@link #add} is synchronized should
 * two turns ever overlap) and any number of readers (request threads), all under this object's
 * lock, held for a copy of at most {@code capacity} references.
 */
final class FigureHistory {

  /**
   * One sample. {@code at}: ms since the epoch; counts as the server held them; rates per second
   * since the previous sample (0 for the first).
   */
  record Sample(long at, int connections, int clients, int channels, long subscriptions,
      long outboundWaitingCharacters, double messagesInPerSecond, double messagesOutPerSecond,
      double publishesPerSecond, double deliveriesPerSecond, double rpcsPerSecond, long cutOff) {}

  private final Sample[] ring;
  private int next;
  private int size;
  private ServerFigures.Snapshot previous;

  FigureHistory(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity " + capacity);
    }
    this.ring = new Sample[capacity];
  }

  /**
   * Takes a snapshot and adds its sample, under the lock: two sampler turns that overlap (workers
   * backed up) still store their samples in time order.
   */
  synchronized Sample add(java.util.function.Supplier<ServerFigures.Snapshot> snapshot) {
    return add(snapshot.get());
  }

  /**
   * Adds the sample of {@code snapshot} (the oldest goes when the ring is full) and returns it; a
   * snapshot older than the latest one is not added (the latest sample is returned).
   */
  synchronized Sample add(ServerFigures.Snapshot snapshot) {
    if (previous != null && snapshot.at().isBefore(previous.at())) {
      return latest();
    }
    ServerFigures.Snapshot before = previous == null ? snapshot : previous;
    Sample sample = new Sample(snapshot.at().toEpochMilli(), snapshot.connections(), snapshot.clients(),
        snapshot.channels(), snapshot.subscriptions(), snapshot.outboundWaitingCharacters(),
        snapshot.perSecond(before, ServerFigures.Snapshot::messagesReceived),
        snapshot.perSecond(before, ServerFigures.Snapshot::messagesSent),
        snapshot.perSecond(before, ServerFigures.Snapshot::publishes),
        snapshot.perSecond(before, ServerFigures.Snapshot::deliveries),
        snapshot.perSecond(before, ServerFigures.Snapshot::rpcs),
        snapshot.cutOffOutboundBuffer() + snapshot.cutOffSendTimeout());
    previous = snapshot;
    ring[next] = sample;
    next = (next + 1) % ring.length;
    size = Math.min(size + 1, ring.length);
    return sample;
  }

  /** The samples taken after {@code at} (ms since the epoch; Long.MIN_VALUE: all), oldest first. */
  synchronized List<Sample> since(long at) {
    List<Sample> samples = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      Sample sample = ring[(next - size + i + ring.length) % ring.length];
      if (sample.at() > at) {
        samples.add(sample);
      }
    }
    return samples;
  }

  /** The latest sample, or null before the first. */
  synchronized Sample latest() {
    return size == 0 ? null : ring[(next - 1 + ring.length) % ring.length];
  }

  int capacity() {
    return ring.length;
  }
}
