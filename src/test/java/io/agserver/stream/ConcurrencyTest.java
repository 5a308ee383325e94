package io.agserver.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ConcurrencyTest {

  private static final int WRITERS = 8;
  private static final int PER_WRITER = 100_000;

  /** Checks, per writer, that values arrive in order without gaps, and that handler calls never overlap. */
  static final class OrderChecker {
    final int[] nextExpected = new int[WRITERS];
    final AtomicInteger inHandler = new AtomicInteger();
    final AtomicBoolean overlap = new AtomicBoolean();
    final AtomicReference<String> firstError = new AtomicReference<>();
    final CountDownLatch all = new CountDownLatch(WRITERS * PER_WRITER);

    void accept(long value) {
      if (inHandler.incrementAndGet() != 1) {
        overlap.set(true);
      }
      int writer = (int) (value >>> 32);
      int seq = (int) value;
      // Plain array access is safe only because calls never overlap; the overlap flag guards that premise.
      if (nextExpected[writer] != seq) {
        firstError.compareAndSet(null, "writer " + writer + ": expected " + nextExpected[writer] + " got " + seq);
      }
      nextExpected[writer] = seq + 1;
      inHandler.decrementAndGet();
      all.countDown();
    }
  }

  private static void runWriters(AGStream<Long> stream) throws InterruptedException {
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < WRITERS; w++) {
      long base = (long) w << 32;
      Thread t = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < PER_WRITER; i++) {
          stream.write(base | i);
        }
      }, "writer-" + w);
      threads.add(t);
      t.start();
    }
    start.countDown();
    for (Thread t : threads) {
      t.join(60_000);
      assertFalse(t.isAlive(), "writer did not finish");
    }
  }

  private static void assertComplete(OrderChecker c) throws InterruptedException {
    assertTrue(c.all.await(60, TimeUnit.SECONDS), "missing values: " + c.all.getCount());
    assertEquals(null, c.firstError.get());
    assertFalse(c.overlap.get(), "handler calls overlapped");
    int[] expected = new int[WRITERS];
    java.util.Arrays.fill(expected, PER_WRITER);
    assertArrayEquals(expected, c.nextExpected);
  }

  @Test
  void eightWritersTwoSyncConsumers() throws Exception {
    AGStream<Long> stream = new AGStream<>();
    OrderChecker a = new OrderChecker();
    OrderChecker b = new OrderChecker();
    stream.consume(a::accept);
    stream.consume(b::accept);
    runWriters(stream);
    assertComplete(a);
    assertComplete(b);
    assertEquals(0, stream.getBackpressure());
  }

  @Test
  void eightWritersAsyncConsumerCompletingOnOtherThreads() throws Exception {
    AGStream<Long> stream = new AGStream<>();
    OrderChecker a = new OrderChecker();
    OrderChecker b = new OrderChecker();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      AtomicInteger n = new AtomicInteger();
      stream.consumeAsync(v -> {
        a.accept(v);
        // Mix of already-completed, null and truly asynchronous stages.
        switch (n.incrementAndGet() % 3) {
          case 0:
            return CompletableFuture.runAsync(() -> { }, pool);
          case 1:
            return null;
          default:
            return CompletableFuture.completedFuture(null);
        }
      });
      stream.consume(b::accept);
      runWriters(stream);
      assertComplete(a);
      assertComplete(b);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void eightWritersPullConsumer() throws Exception {
    AGStream<Long> stream = new AGStream<>();
    OrderChecker a = new OrderChecker();
    AGConsumer<Long> consumer = stream.createConsumer();
    CompletableFuture<Integer> total = PullConsumerTest.readAll(consumer, a::accept);
    runWriters(stream);
    assertComplete(a);
    stream.close();
    assertEquals(WRITERS * PER_WRITER, total.get(10, TimeUnit.SECONDS));
  }

  @Test
  void reentrantWritesFromHandlerAreTrampolined() {
    AGStream<Integer> stream = new AGStream<>();
    int n = 1_000_000;
    int[] count = {0};
    int[] depth = {0};
    int[] maxDepth = {0};
    stream.consume(v -> {
      depth[0]++;
      maxDepth[0] = Math.max(maxDepth[0], depth[0]);
      count[0]++;
      if (v < n - 1) {
        stream.write(v + 1);
      }
      depth[0]--;
    });
    stream.write(0);
    assertEquals(n, count[0]);
    assertEquals(1, maxDepth[0]);
  }

  @Test
  void reentrantWritesWithTwoConsumersStayBounded() {
    AGStream<Integer> stream = new AGStream<>();
    int n = 100_000;
    List<Integer> a = new ArrayList<>();
    List<Integer> b = new ArrayList<>();
    stream.consume(v -> {
      a.add(v);
      if (v < n - 1) {
        stream.write(v + 1);
      }
    });
    stream.consume(b::add);
    stream.write(0);
    assertEquals(n, a.size());
    assertEquals(n, b.size());
    for (int i = 0; i < n; i++) {
      assertEquals(i, a.get(i));
      assertEquals(i, b.get(i));
    }
  }

  @Test
  void millionSynchronouslyCompletedStagesDoNotGrowTheStack() throws Exception {
    AGStream<Integer> stream = new AGStream<>();
    int n = 1_000_000;
    CompletableFuture<Void> gate = new CompletableFuture<>();
    int[] count = {0};
    CompletionStage<Void> done = CompletableFuture.completedFuture(null);
    // A subclass of CompletableFuture takes the generic path (whenComplete), not the isDone() fast path.
    CompletionStage<Void> minimal = CompletableFuture.completedStage(null);
    stream.consumeAsync(v -> {
      count[0]++;
      if (v == 0) {
        return gate;
      }
      return (v & 1) == 0 ? done : minimal;
    });
    stream.write(0);
    for (int i = 1; i < n; i++) {
      stream.write(i);
    }
    assertEquals(1, count[0]);
    assertEquals(n - 1, stream.getBackpressure());
    // Completing the gate drains the million-item backlog from this stack frame.
    Thread t = new Thread(null, () -> gate.complete(null), "small-stack", 256 * 1024);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    t.setUncaughtExceptionHandler((th, e) -> failure.set(e));
    t.start();
    t.join(60_000);
    assertEquals(null, failure.get());
    assertEquals(n, count[0]);
    assertEquals(0, stream.getBackpressure());
  }

  @Test
  void asyncStagesCompletedByTheNextHandlerOnAnotherThreadKeepOrder() throws Exception {
    // Stages complete on a pool; the drain continues on whichever pool thread completes them.
    AGStream<Integer> stream = new AGStream<>();
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      int n = 50_000;
      AtomicInteger inHandler = new AtomicInteger();
      AtomicBoolean overlap = new AtomicBoolean();
      List<Integer> got = java.util.Collections.synchronizedList(new ArrayList<>());
      CountDownLatch all = new CountDownLatch(n);
      stream.consumeAsync(v -> {
        if (inHandler.incrementAndGet() != 1) {
          overlap.set(true);
        }
        got.add(v);
        inHandler.decrementAndGet();
        all.countDown();
        return CompletableFuture.runAsync(() -> { }, pool);
      });
      for (int i = 0; i < n; i++) {
        stream.write(i);
      }
      assertTrue(all.await(60, TimeUnit.SECONDS));
      assertFalse(overlap.get());
      for (int i = 0; i < n; i++) {
        assertEquals(i, got.get(i));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void killRacingWithWritersEndsEveryConsumer() throws Exception {
    for (int round = 0; round < 50; round++) {
      AGStream<Integer> stream = new AGStream<>();
      List<AGConsumer<Integer>> consumers = new ArrayList<>();
      CompletableFuture<Void> gate = new CompletableFuture<>();
      consumers.add(stream.consume(v -> { }));
      consumers.add(stream.consumeAsync(v -> gate));
      consumers.add(stream.createConsumer());
      CountDownLatch start = new CountDownLatch(1);
      Thread writer = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < 10_000; i++) {
          stream.write(i);
        }
      });
      writer.start();
      start.countDown();
      stream.kill();
      writer.join(10_000);
      for (AGConsumer<Integer> c : consumers) {
        c.done().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(0, c.backpressure());
      }
      assertEquals(0, stream.getConsumerCount());
      gate.complete(null);
    }
  }

  @Test
  void closeRacingWithWritersDeliversAPrefixOfEachWriterThenEnds() throws Exception {
    for (int round = 0; round < 100; round++) {
      AGStream<Long> stream = new AGStream<>();
      int writers = 3;
      int[][] lastSeen = new int[2][writers];
      boolean[] broken = {false};
      List<AGConsumer<Long>> consumers = new ArrayList<>();
      for (int k = 0; k < 2; k++) {
        int[] last = lastSeen[k];
        java.util.Arrays.fill(last, -1);
        consumers.add(stream.consume(v -> {
          int w = (int) (v >>> 32);
          int seq = (int) (long) v;
          if (seq != last[w] + 1) {
            broken[0] = true;
          }
          last[w] = seq;
        }));
      }
      CountDownLatch start = new CountDownLatch(1);
      List<Thread> threads = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        long base = (long) w << 32;
        Thread t = new Thread(() -> {
          try {
            start.await();
          } catch (InterruptedException e) {
            return;
          }
          for (int i = 0; i < 2000; i++) {
            stream.write(base | i);
          }
        });
        threads.add(t);
        t.start();
      }
      start.countDown();
      stream.close();
      for (AGConsumer<Long> c : consumers) {
        c.done().toCompletableFuture().get(5, TimeUnit.SECONDS);
      }
      for (Thread t : threads) {
        t.join(10_000);
      }
      assertFalse(broken[0], "a consumer skipped or reordered a writer's values");
      // Both consumers read the same log, so they end at the same place.
      assertArrayEquals(lastSeen[0], lastSeen[1]);
      assertEquals(0, stream.getConsumerCount());
    }
  }
}
