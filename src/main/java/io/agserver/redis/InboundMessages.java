package io.agserver.redis;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.LongConsumer;

/**
 * The messages Redis sends this instance, taken off Lettuce's I/O thread and handed to the server's
 * workers one at a time, in the order they arrived.
 *
 * <p>Delivering a message runs application code (outbound middleware, server-side channel
 * consumers), which must neither hold up the connection every other message arrives on nor issue
 * its own Redis commands from that connection's thread (a command written there overtakes the
 * ones other threads have queued for it). At most {@code limit} messages wait; one more is dropped
 * and counted, and {@code dropped} hears of the first drop of each run of them.
 *
 * <p>The same queue carries this instance's own publications on history channels, whose local
 * subscribers get them once Redis has given them their position ({@link #offer(Runnable)}, called
 * in the order of the replies): so they, too, leave Lettuce's thread in the order Redis ran them,
 * and interleave with the messages from other instances in arrival order.
 */
final class InboundMessages {

  // At most this many messages in one turn on a worker, so a busy channel does not keep one
  // worker for good.
  private static final int BATCH = 256;

  private final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
  // Messages queued and not yet delivered: the bound, and the single drainer's turn (0 -> 1 starts one).
  private final AtomicInteger waiting = new AtomicInteger();
  private final AtomicLong droppedInRun = new AtomicLong();
  private final Executor workers;
  private final int limit;
  private final BiConsumer<String, String> deliver;
  private final LongConsumer dropped;

  InboundMessages(Executor workers, int limit, BiConsumer<String, String> deliver, LongConsumer dropped) {
    this.workers = workers;
    this.limit = limit;
    this.deliver = deliver;
    this.dropped = dropped;
  }

  /** Called by Lettuce's I/O thread; never blocks. */
  void offer(String redisChannel, String payload) {
    offer(() -> deliver.accept(redisChannel, payload));
  }

  /** A delivery of the engine's own, run in turn with the messages; never blocks. */
  void offer(Runnable delivery) {
    offer(delivery, false);
  }

  /**
   * A step of the engine's own bookkeeping, run in turn with the messages, never dropped (a
   * dropped message is recovered, a lost step of the bookkeeping would not be).
   */
  void offerAlways(Runnable step) {
    offer(step, true);
  }

  private void offer(Runnable delivery, boolean always) {
    if (!always && waiting.get() >= limit) {
      if (droppedInRun.getAndIncrement() == 0) {
        dropped.accept(limit);
      }
      return;
    }
    queue.offer(delivery);
    if (waiting.getAndIncrement() == 0) {
      schedule();
    }
  }

  /** Messages waiting for a worker. */
  int size() {
    return waiting.get();
  }

  private void schedule() {
    try {
      workers.execute(this::drain);
    } catch (RejectedExecutionException closing) {
      queue.clear();
      waiting.set(0);
    }
  }

  private void drain() {
    int done = 0;
    while (true) {
      Runnable message = queue.poll();
      if (message != null) {
        try {
          message.run();
        } catch (Throwable e) {
          // deliver reports its own failures; nothing here (not even an Error of a subscriber's)
          // may leave the count behind and stop the queue.
        }
      }
      if (waiting.decrementAndGet() == 0) {
        // The queue emptied: the next overflow is a new run, and is reported.
        droppedInRun.set(0);
        return;
      }
      if (++done == BATCH) {
        schedule();
        return;
      }
    }
  }
}
