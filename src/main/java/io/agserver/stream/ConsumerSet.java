package io.agserver.stream;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The current consumers of one stream and the log they read. Consumers are a copy-on-write array: they come and go
 * rarely, while writes iterate them on every message and must not lock.
 *
 * <p>A set belonging to a {@link StreamDemux} is <em>retired</em> once it is empty, atomically with respect to
 * {@link #add}, so the demux can forget it; a later consumer of that name gets a fresh set.
 */
final class ConsumerSet<T> {

  private static final BaseConsumer<?>[] EMPTY = new BaseConsumer<?>[0];
  private static final BaseConsumer<?>[] RETIRED = new BaseConsumer<?>[0];

  private static final VarHandle CONSUMERS;

  static {
    try {
      CONSUMERS = MethodHandles.lookup().findVarHandle(ConsumerSet.class, "consumers", BaseConsumer[].class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** The name within the demux, or null for a standalone stream. */
  final String name;
  /** The stream handle that created this set; the demux hands it out for this name while the set lives. */
  final AGStream<T> handle;
  /** What the consumers read; a retired set's log goes away with it. */
  final WriteLog log = new WriteLog();
  private final StreamDemux<T> demux;
  private volatile BaseConsumer<?>[] consumers = EMPTY;

  ConsumerSet(String name, StreamDemux<T> demux, AGStream<T> handle) {
    this.name = name;
    this.demux = demux;
    this.handle = handle;
  }

  /** Adds a consumer; false if this set was retired (the caller must get a fresh set). */
  boolean add(BaseConsumer<T> consumer) {
    for (;;) {
      BaseConsumer<?>[] current = consumers;
      if (current == RETIRED) {
        return false;
      }
      BaseConsumer<?>[] next = Arrays.copyOf(current, current.length + 1);
      next[current.length] = consumer;
      if (CONSUMERS.compareAndSet(this, current, next)) {
        return true;
      }
    }
  }

  void remove(BaseConsumer<?> consumer) {
    for (;;) {
      BaseConsumer<?>[] current = consumers;
      int index = indexOf(current, consumer);
      if (index < 0) {
        return;
      }
      BaseConsumer<?>[] next;
      if (current.length == 1) {
        next = EMPTY;
      } else {
        next = new BaseConsumer<?>[current.length - 1];
        System.arraycopy(current, 0, next, 0, index);
        System.arraycopy(current, index + 1, next, index, current.length - index - 1);
      }
      if (CONSUMERS.compareAndSet(this, current, next)) {
        if (next == EMPTY && demux != null) {
          demux.retire(this);
        }
        return;
      }
    }
  }

  private static int indexOf(BaseConsumer<?>[] array, BaseConsumer<?> consumer) {
    for (int i = 0; i < array.length; i++) {
      if (array[i] == consumer) {
        return i;
      }
    }
    return -1;
  }

  /** Empty to retired; fails if a consumer slipped in meanwhile. */
  boolean tryRetire() {
    return CONSUMERS.compareAndSet(this, EMPTY, RETIRED);
  }

  boolean isRetired() {
    return consumers == RETIRED;
  }

  /** Appends a masked value (or the close marker) for every current consumer. */
  void write(Object item) {
    if (consumers.length == 0) {
      return; // nobody to read it: no node, no allocation
    }
    log.append(item, 0);
    signalAll();
  }

  /** Appends a masked value (or the close marker) that only {@code target} takes; the others skip it. */
  void writeTo(BaseConsumer<?> target, Object item) {
    log.append(item, target.id());
    // Everyone looks, so that the others step over the node now and it does not linger as their backpressure.
    signalAll();
  }

  private void signalAll() {
    // Re-read after appending: a consumer added meanwhile may start before our node and must be woken.
    for (BaseConsumer<?> c : consumers) {
      c.offer();
    }
  }

  void close() {
    write(BaseConsumer.CLOSE);
  }

  void kill() {
    for (BaseConsumer<?> c : consumers) {
      c.kill();
    }
  }

  boolean hasConsumers() {
    return consumers.length > 0;
  }

  int count() {
    return consumers.length;
  }

  @SuppressWarnings("unchecked")
  BaseConsumer<T> find(long consumerId) {
    for (BaseConsumer<?> c : consumers) {
      if (c.id() == consumerId) {
        return (BaseConsumer<T>) c;
      }
    }
    return null;
  }

  int maxBackpressure() {
    int max = 0;
    for (BaseConsumer<?> c : consumers) {
      max = Math.max(max, c.backpressure());
    }
    return max;
  }

  void addStatsTo(List<ConsumerStats> out) {
    for (BaseConsumer<?> c : consumers) {
      out.add(new ConsumerStats(c.id(), c.backpressure(), name));
    }
  }

  List<ConsumerStats> stats() {
    List<ConsumerStats> out = new ArrayList<>(consumers.length);
    addStatsTo(out);
    return out;
  }
}
