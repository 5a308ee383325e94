package io.agserver.pubsub;

import java.security.SecureRandom;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import io.agserver.protocol.AGError;

/**
 * The memory engine's history: per channel an epoch, the last offset and the latest publications,
 * gone (a new epoch) once the channel's ttl has passed since its last publication.
 *
 * <p>Each channel's state is guarded by its own monitor, held only to assign an offset and keep
 * the publication (or to read): never while delivering. Deliveries leave in offset order through
 * the channel's queue, drained by whichever publisher finds it idle, so that no application code
 * (outbound middleware, server-side consumers) runs under the monitor and a subscriber never sees
 * offset 6 before 5. Expired channels are dropped on access and by a sweep every
 * {@link #SWEEP_EVERY} operations.
 */
final class MemoryHistory {

  private static final int SWEEP_EVERY = 4096;
  private static final SecureRandom RANDOM = new SecureRandom();

  private static final class Stream {
    String epoch = newEpoch();
    long offset;
    long lastPublished;
    long ttlMillis;
    // Set by the sweep when it drops the stream: whoever holds it then looks it up again.
    boolean removed;
    final ArrayDeque<Publication> kept = new ArrayDeque<>();
    final ConcurrentLinkedQueue<Runnable> deliveries = new ConcurrentLinkedQueue<>();
    final AtomicInteger waiting = new AtomicInteger();

    Stream(long now) {
      lastPublished = now;
    }

    void expireIfDue(long now, HistoryOptions options) {
      ttlMillis = options.ttl().toMillis();
      if (now - lastPublished > ttlMillis) {
        epoch = newEpoch();
        offset = 0;
        kept.clear();
        lastPublished = now;
      }
    }

    void drain() {
      if (waiting.getAndIncrement() != 0) {
        return;
      }
      do {
        try {
          deliveries.poll().run();
        } catch (Throwable e) {
          // A delivery reports its own failures; nothing may leave the count behind and stop
          // the channel's deliveries for good.
        }
      } while (waiting.decrementAndGet() != 0);
    }
  }

  private final ConcurrentHashMap<String, Stream> streams = new ConcurrentHashMap<>();
  private final AtomicLong operations = new AtomicLong();
  private final InstantSource clock;

  MemoryHistory(InstantSource clock) {
    this.clock = clock;
  }

  /** Assigns the next offset, keeps the publication, and delivers it in offset order. */
  StreamPosition append(String channel, Object data, HistoryOptions options, Consumer<StreamPosition> deliver) {
    long now = clock.millis();
    while (true) {
      Stream stream = stream(channel, now);
      StreamPosition position;
      synchronized (stream) {
        if (stream.removed) {
          continue;
        }
        stream.expireIfDue(now, options);
        stream.offset++;
        stream.kept.addLast(new Publication(stream.offset, data));
        while (stream.kept.size() > options.size()) {
          stream.kept.removeFirst();
        }
        stream.lastPublished = now;
        position = new StreamPosition(stream.offset, stream.epoch);
        // Queued in offset order (under the monitor), delivered outside it.
        stream.deliveries.offer(() -> deliver.accept(position));
      }
      stream.drain();
      return position;
    }
  }

  HistoryPage read(String channel, StreamPosition since, int limit, HistoryOptions options) {
    long now = clock.millis();
    while (true) {
      Stream stream = stream(channel, now);
      synchronized (stream) {
        if (!stream.removed) {
          stream.expireIfDue(now, options);
          return page(channel, stream, since, limit);
        }
      }
    }
  }

  private static HistoryPage page(String channel, Stream stream, StreamPosition since, int limit) {
    List<Publication> wanted = new ArrayList<>();
    if (since != null) {
      if (!since.epoch().equals(stream.epoch)) {
        throw AGError.unrecoverablePosition("The position's epoch " + since.epoch() + " is not the "
            + channel + " channel's epoch " + stream.epoch + ": its history was lost since");
      }
      if (since.offset() > stream.offset) {
        throw AGError.unrecoverablePosition("The position's offset " + since.offset() + " is past the "
            + channel + " channel's latest offset " + stream.offset);
      }
      long firstKept = stream.kept.isEmpty() ? stream.offset + 1 : stream.kept.peekFirst().offset();
      if (since.offset() + 1 < firstKept) {
        throw AGError.unrecoverablePosition("The publications of the " + channel + " channel after offset "
            + since.offset() + " are no longer kept (the oldest kept is " + firstKept + ")");
      }
      for (Publication publication : stream.kept) {
        if (publication.offset() > since.offset()) {
          wanted.add(publication);
        }
      }
    } else {
      wanted.addAll(stream.kept);
    }
    if (limit > 0 && wanted.size() > limit) {
      wanted = wanted.subList(wanted.size() - limit, wanted.size());
    }
    return new HistoryPage(stream.epoch, stream.offset, wanted);
  }

  private Stream stream(String channel, long now) {
    if (operations.incrementAndGet() % SWEEP_EVERY == 0) {
      sweep(now);
    }
    return streams.computeIfAbsent(channel, name -> new Stream(now));
  }

  /** Drops the streams idle past their ttl (a reset on their next access would make them new anyway). */
  void sweep(long now) {
    for (String channel : streams.keySet()) {
      streams.computeIfPresent(channel, (name, stream) -> {
        synchronized (stream) {
          if (stream.waiting.get() == 0 && stream.ttlMillis > 0 && now - stream.lastPublished > stream.ttlMillis) {
            stream.removed = true;
            return null;
          }
          return stream;
        }
      });
    }
  }

  /** Channels with a history kept now. */
  int size() {
    return streams.size();
  }

  private static String newEpoch() {
    return Long.toString(RANDOM.nextLong() & Long.MAX_VALUE, 36);
  }
}
