package io.agserver.stream;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Named streams sharing one consumer id space (StreamDemux).
 *
 * <p>Only names that have consumers take memory: a name's consumer set is dropped when its last consumer ends, and
 * writing to a name without consumers is one map lookup. Stream handles stay valid across that: a handle consumed
 * again re-registers its name.
 *
 * <p>The {@code ...All} methods iterate the names weakly consistently; their lists come in no particular name order
 * (consumers of one name stay oldest first).
 */
public class StreamDemux<T> {

  private final ConcurrentHashMap<String, ConsumerSet<T>> sets = new ConcurrentHashMap<>();

  /**
   * The stream of that name: the same instance as long as the name has consumers; otherwise a fresh, free handle
   * that registers the name when it gets a consumer.
   */
  public AGStream<T> stream(String name) {
    Objects.requireNonNull(name, "name");
    ConsumerSet<T> s = sets.get(name);
    return s != null && !s.isRetired() ? s.handle : new AGStream<>(name, this);
  }

  // ---- used by AGStream handles and ConsumerSet --------------------------------------------------------------

  ConsumerSet<T> lookup(String name) {
    return sets.get(name);
  }

  /** The name's live set, created (with {@code handle} as its canonical stream) if it has none. */
  ConsumerSet<T> liveSetFor(String name, AGStream<T> handle) {
    ConsumerSet<T> s = sets.get(name);
    if (s != null && !s.isRetired()) {
      return s;
    }
    return sets.compute(name, (k, old) -> old != null && !old.isRetired() ? old : new ConsumerSet<>(k, this, handle));
  }

  /** The set just became empty; forget it unless a consumer came back meanwhile. */
  void retire(ConsumerSet<T> s) {
    if (s.tryRetire()) {
      sets.remove(s.name, s);
    }
  }

  /** Names that currently hold a consumer set (for tests and diagnostics). */
  int streamCount() {
    return sets.size();
  }

  // ---- writing -----------------------------------------------------------------------------------------------

  public void write(String name, T value) {
    ConsumerSet<T> s = sets.get(name);
    if (s != null) {
      s.write(BaseConsumer.mask(value));
    }
  }

  public boolean hasConsumers(String name) {
    ConsumerSet<T> s = sets.get(name);
    return s != null && s.hasConsumers();
  }

  public void close(String name) {
    ConsumerSet<T> s = sets.get(name);
    if (s != null) {
      s.close();
    }
  }

  public void closeAll() {
    for (ConsumerSet<T> s : sets.values()) {
      s.close();
    }
  }

  public void kill(String name) {
    ConsumerSet<T> s = sets.get(name);
    if (s != null) {
      s.kill();
    }
  }

  public void killAll() {
    for (ConsumerSet<T> s : sets.values()) {
      s.kill();
    }
  }

  // ---- single consumers --------------------------------------------------------------------------------------

  private BaseConsumer<T> find(long consumerId) {
    for (ConsumerSet<T> s : sets.values()) {
      BaseConsumer<T> c = s.find(consumerId);
      if (c != null) {
        return c;
      }
    }
    return null;
  }

  public void killConsumer(long consumerId) {
    BaseConsumer<T> c = find(consumerId);
    if (c != null) {
      c.kill();
    }
  }

  /** That consumer delivers its backlog, then ends. */
  public void closeConsumer(long consumerId) {
    BaseConsumer<T> c = find(consumerId);
    if (c != null) {
      c.writeOnly(BaseConsumer.CLOSE);
    }
  }

  /** Only that consumer receives the value. */
  public void writeToConsumer(long consumerId, T value) {
    BaseConsumer<T> c = find(consumerId);
    if (c != null) {
      c.writeOnly(BaseConsumer.mask(value));
    }
  }

  public int getConsumerBackpressure(long consumerId) {
    BaseConsumer<T> c = find(consumerId);
    return c == null ? 0 : c.backpressure();
  }

  public boolean hasConsumer(String name, long consumerId) {
    ConsumerSet<T> s = sets.get(name);
    return s != null && s.find(consumerId) != null;
  }

  public boolean hasConsumerAll(long consumerId) {
    return find(consumerId) != null;
  }

  public Optional<ConsumerStats> getConsumerStats(long consumerId) {
    BaseConsumer<T> c = find(consumerId);
    return c == null ? Optional.empty() : Optional.of(c.stats());
  }

  // ---- aggregates --------------------------------------------------------------------------------------------

  public int getBackpressure(String name) {
    ConsumerSet<T> s = sets.get(name);
    return s == null ? 0 : s.maxBackpressure();
  }

  public int getBackpressureAll() {
    int max = 0;
    for (ConsumerSet<T> s : sets.values()) {
      max = Math.max(max, s.maxBackpressure());
    }
    return max;
  }

  public List<ConsumerStats> getConsumerStatsList(String name) {
    ConsumerSet<T> s = sets.get(name);
    return s == null ? List.of() : s.stats();
  }

  public List<ConsumerStats> getConsumerStatsListAll() {
    List<ConsumerStats> out = new ArrayList<>();
    for (ConsumerSet<T> s : sets.values()) {
      s.addStatsTo(out);
    }
    return out;
  }

  public int getConsumerCount(String name) {
    ConsumerSet<T> s = sets.get(name);
    return s == null ? 0 : s.count();
  }

  public int getConsumerCountAll() {
    int sum = 0;
    for (ConsumerSet<T> s : sets.values()) {
      sum += s.count();
    }
    return sum;
  }
}
