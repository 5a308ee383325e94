package io.agserver.stream;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledFuture;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A writable stream with any number of independent consumers (WritableConsumableStream).
 *
 * <p>Every consumer sees the values written after it was created, all of them, in the order the writes took effect;
 * all consumers see the same order (writes go to one shared log, each consumer reads it at its own pace, so a slow
 * consumer never delays another).
 *
 * <p>Writes never block: a handler runs inline on the writing thread when its consumer is idle, otherwise the thread
 * already busy with that consumer runs it next. Handlers of one consumer never overlap; a write from inside a handler
 * is delivered after that handler returns. A handler that throws (or a stage that fails) is reported to
 * {@link #setUncaughtHandler} and its consumer goes on.
 *
 * <p>The newest value written stays referenced by the stream until the next write.
 *
 * <p>A stream obtained from {@link StreamDemux#stream(String)} is a handle on the demux: its consumers live in the
 * demux under its name, shared with every other handle of that name.
 */
public class AGStream<T> {

  private final String name;
  private final StreamDemux<T> demux;
  /** Standalone: the stream's own set, forever. Demuxed: the last live set seen for the name, or null. */
  private volatile ConsumerSet<T> set;

  public AGStream() {
    this.name = null;
    this.demux = null;
    this.set = new ConsumerSet<>(null, null, this);
  }

  AGStream(String name, StreamDemux<T> demux) {
    this.name = name;
    this.demux = demux;
  }

  /**
   * Replaces the receiver of handler failures, for every stream. {@code null} restores the default, which logs
   * at WARNING through java.util.logging.
   */
  public static void setUncaughtHandler(BiConsumer<AGConsumer<?>, Throwable> handler) {
    ErrorHook.set(handler);
  }

  public static BiConsumer<AGConsumer<?>, Throwable> getUncaughtHandler() {
    return ErrorHook.get();
  }

  /** The name within its demux, or null for a standalone stream. */
  public String name() {
    return name;
  }

  /** The consumers' set, or null if a demuxed stream has none right now. */
  private ConsumerSet<T> live() {
    ConsumerSet<T> s = set;
    if (demux == null || (s != null && !s.isRetired())) {
      return s;
    }
    s = demux.lookup(name);
    if (s != null) {
      set = s;
    }
    return s;
  }

  /** Registers a new consumer with the live set, creating that set for a demuxed name that has none. */
  private <C extends BaseConsumer<T>> C attach(C consumer) {
    for (;;) {
      ConsumerSet<T> s = demux == null ? set : demux.liveSetFor(name, this);
      consumer.attachTo(s);
      if (s.add(consumer)) {
        if (demux != null) {
          set = s;
        }
        // Killed while we were adding it (a Flow subscriber can cancel before it is attached).
        if (!consumer.isActive()) {
          s.remove(consumer);
          consumer.detach();
          return consumer;
        }
        // Writes appended between reading the log's end and joining the set did not signal us.
        consumer.offer();
        return consumer;
      }
    }
  }

  /** Every current consumer receives the value, which may be null. */
  public void write(T value) {
    ConsumerSet<T> s = live();
    if (s != null) {
      s.write(BaseConsumer.mask(value));
    }
  }

  /**
   * Current consumers deliver their backlog, then end. The stream itself stays usable: consumers created later see
   * later writes.
   */
  public void close() {
    ConsumerSet<T> s = live();
    if (s != null) {
      s.close();
    }
  }

  /** Current consumers end now; their backlog is dropped. A handler already running finishes. */
  public void kill() {
    ConsumerSet<T> s = live();
    if (s != null) {
      s.kill();
    }
  }

  public boolean hasConsumers() {
    ConsumerSet<T> s = live();
    return s != null && s.hasConsumers();
  }

  /** A pull-style consumer, read with {@link AGConsumer#next()}. */
  public AGConsumer<T> createConsumer() {
    return attach(new PullConsumer<>());
  }

  /** Runs {@code handler} for each value, one at a time, in order. */
  public AGConsumer<T> consume(Consumer<? super T> handler) {
    Objects.requireNonNull(handler, "handler");
    return attach(new PushConsumer<>(handler));
  }

  /**
   * Runs {@code handler} for each value; the next value is delivered only after the returned stage completed,
   * normally or not. A null stage counts as completed.
   */
  public AGConsumer<T> consumeAsync(Function<? super T, ? extends CompletionStage<?>> handler) {
    Objects.requireNonNull(handler, "handler");
    return attach(new AsyncPushConsumer<>(handler));
  }

  /**
   * The next value written after this call. Fails with {@link java.util.concurrent.CancellationException} if the
   * stream is closed or killed first. Cancelling the returned future drops its consumer.
   */
  public CompletionStage<T> once() {
    OnceConsumer<T> consumer = attach(new OnceConsumer<>());
    consumer.result.whenComplete((v, e) -> consumer.kill());
    return consumer.result;
  }

  /** Like {@link #once()}, but fails with {@link StreamTimeoutException} after {@code timeoutMillis}. */
  public CompletionStage<T> once(long timeoutMillis) {
    if (timeoutMillis < 0) {
      throw new IllegalArgumentException("timeoutMillis < 0: " + timeoutMillis);
    }
    OnceConsumer<T> consumer = attach(new OnceConsumer<>());
    ScheduledFuture<?> timer = StreamTimers.schedule(consumer::timeOut, timeoutMillis);
    consumer.result.whenComplete((v, e) -> {
      timer.cancel(false);
      consumer.kill();
    });
    return consumer.result;
  }

  /**
   * Each subscriber gets a new consumer, created once {@code onSubscribe} returned, honouring {@code request(n)};
   * {@code cancel()} kills it. The subscriber is completed when its consumer ends by close or kill.
   */
  public Flow.Publisher<T> publisher() {
    return subscriber -> {
      Objects.requireNonNull(subscriber, "subscriber");
      PublisherConsumer<T> consumer = new PublisherConsumer<>(subscriber);
      try {
        subscriber.onSubscribe(consumer);
      } catch (Throwable t) {
        // Rule 2.13: a throwing onSubscribe counts as a cancellation.
        consumer.report(t);
        consumer.cancel();
        return;
      }
      if (consumer.isActive()) { // not cancelled from inside onSubscribe
        attach(consumer);
      }
    };
  }

  /** The highest backpressure among current consumers, 0 if none. */
  public int getBackpressure() {
    ConsumerSet<T> s = live();
    return s == null ? 0 : s.maxBackpressure();
  }

  public int getConsumerBackpressure(long consumerId) {
    BaseConsumer<T> c = find(consumerId);
    return c == null ? 0 : c.backpressure();
  }

  public boolean hasConsumer(long consumerId) {
    return find(consumerId) != null;
  }

  public int getConsumerCount() {
    ConsumerSet<T> s = live();
    return s == null ? 0 : s.count();
  }

  /** Current consumers, oldest first. */
  public List<ConsumerStats> getConsumerStatsList() {
    ConsumerSet<T> s = live();
    return s == null ? List.of() : s.stats();
  }

  public Optional<ConsumerStats> getConsumerStats(long consumerId) {
    BaseConsumer<T> c = find(consumerId);
    return c == null ? Optional.empty() : Optional.of(c.stats());
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

  private BaseConsumer<T> find(long consumerId) {
    ConsumerSet<T> s = live();
    return s == null ? null : s.find(consumerId);
  }

  @Override
  public String toString() {
    return "AGStream[" + (name == null ? "" : name) + ", consumers=" + getConsumerCount() + "]";
  }
}
