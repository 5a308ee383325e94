package io.agserver.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AGStreamTest {

  private static final long T = 5;

  @AfterEach
  void restoreHook() {
    AGStream.setUncaughtHandler(null);
  }

  private static void await(java.util.concurrent.CompletionStage<?> stage) throws Exception {
    stage.toCompletableFuture().get(T, TimeUnit.SECONDS);
  }

  @Test
  void oneConsumerReceivesValuesInOrder() {
    AGStream<Integer> stream = new AGStream<>();
    List<Integer> got = new ArrayList<>();
    stream.consume(got::add);
    for (int i = 0; i < 100; i++) {
      stream.write(i);
    }
    assertEquals(100, got.size());
    for (int i = 0; i < 100; i++) {
      assertEquals(i, got.get(i));
    }
    assertNotEquals(null, stream.toString());
    assertEquals(null, stream.name());
  }

  @Test
  void manyConsumersEachReceiveEveryValueInOrder() {
    AGStream<String> stream = new AGStream<>();
    List<List<String>> lists = new ArrayList<>();
    for (int c = 0; c < 5; c++) {
      List<String> l = new ArrayList<>();
      lists.add(l);
      stream.consume(l::add);
    }
    for (int i = 0; i < 10; i++) {
      stream.write("a" + i);
    }
    for (List<String> l : lists) {
      assertEquals(List.of("a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"), l);
    }
    assertEquals(5, stream.getConsumerCount());
  }

  @Test
  void nullValuesAreDelivered() throws Exception {
    AGStream<String> stream = new AGStream<>();
    List<String> got = new ArrayList<>();
    stream.consume(got::add);
    AGConsumer<String> pull = stream.createConsumer();
    stream.write(null);
    stream.write("x");
    assertEquals(Arrays.asList(null, "x"), got);
    Next<String> n = pull.next().toCompletableFuture().get(T, TimeUnit.SECONDS);
    assertEquals(Next.of(null), n);
    assertFalse(n.done());
  }

  @Test
  void lateConsumerMissesEarlierWrites() {
    AGStream<String> stream = new AGStream<>();
    stream.write("lost");
    List<String> a = new ArrayList<>();
    stream.consume(a::add);
    stream.write("one");
    List<String> b = new ArrayList<>();
    stream.consume(b::add);
    stream.write("two");
    assertEquals(List.of("one", "two"), a);
    assertEquals(List.of("two"), b);
  }

  @Test
  void slowConsumerDoesNotDelayAnother() {
    AGStream<Integer> stream = new AGStream<>();
    CompletableFuture<Void> gate = new CompletableFuture<>();
    List<Integer> slow = new ArrayList<>();
    stream.consumeAsync(v -> {
      slow.add(v);
      return gate;
    });
    List<Integer> fast = new ArrayList<>();
    stream.consume(fast::add);
    for (int i = 0; i < 5; i++) {
      stream.write(i);
    }
    assertEquals(List.of(0, 1, 2, 3, 4), fast);
    assertEquals(List.of(0), slow);
    gate.complete(null);
    assertEquals(List.of(0, 1, 2, 3, 4), slow);
  }

  @Test
  void closeDeliversBacklogThenEnds() throws Exception {
    AGStream<Integer> stream = new AGStream<>();
    CompletableFuture<Void> gate = new CompletableFuture<>();
    List<Integer> got = new CopyOnWriteArrayList<>();
    AGConsumer<Integer> c = stream.consumeAsync(v -> {
      got.add(v);
      return v == 0 ? gate : null;
    });
    for (int i = 0; i < 5; i++) {
      stream.write(i);
    }
    stream.close();
    assertFalse(c.isDone());
    assertTrue(stream.hasConsumers());
    // Four queued values plus the close marker (as in the JS original).
    assertEquals(5, c.backpressure());
    gate.complete(null);
    await(c.done());
    assertTrue(c.isDone());
    assertEquals(List.of(0, 1, 2, 3, 4), got);
    assertFalse(stream.hasConsumers());
    assertEquals(0, stream.getConsumerCount());
    assertEquals(0, c.backpressure());
    // Closed consumers stay ended; writes after the close do not reach them.
    stream.write(9);
    assertEquals(5, got.size());
  }

  @Test
  void streamCanBeConsumedAgainAfterClose() throws Exception {
    AGStream<String> stream = new AGStream<>();
    List<String> a = new ArrayList<>();
    AGConsumer<String> first = stream.consume(a::add);
    stream.write("one");
    stream.close();
    assertTrue(first.isDone());
    List<String> b = new ArrayList<>();
    AGConsumer<String> second = stream.consume(b::add);
    stream.write("two");
    stream.close();
    await(second.done());
    assertEquals(List.of("one"), a);
    assertEquals(List.of("two"), b);
    assertEquals(0, stream.getConsumerCount());
  }

  @Test
  void killDropsBacklogAndZeroesBackpressure() throws Exception {
    AGStream<Integer> stream = new AGStream<>();
    CompletableFuture<Void> gate = new CompletableFuture<>();
    List<Integer> got = new CopyOnWriteArrayList<>();
    AGConsumer<Integer> c = stream.consumeAsync(v -> {
      got.add(v);
      return gate;
    });
    for (int i = 0; i < 10; i++) {
      stream.write(i);
    }
    assertEquals(9, stream.getBackpressure());
    stream.kill();
    assertEquals(0, stream.getBackpressure());
    assertEquals(0, c.backpressure());
    assertTrue(c.isDone());
    await(c.done());
    assertFalse(stream.hasConsumers());
    gate.complete(null);
    stream.write(99);
    assertEquals(List.of(0), got);
  }

  @Test
  void killFromInsideHandlerStopsFurtherDelivery() {
    AGStream<Integer> stream = new AGStream<>();
    List<Integer> got = new ArrayList<>();
    AGConsumer<?>[] self = new AGConsumer<?>[1];
    self[0] = stream.consume(v -> {
      got.add(v);
      stream.write(v + 100); // queued behind us
      if (v == 0) {
        self[0].kill();
      }
    });
    stream.write(0);
    stream.write(1);
    assertEquals(List.of(0), got);
    assertEquals(0, stream.getConsumerCount());
  }

  @Test
  void backpressureCountsItemsBehindPendingAsyncStage() throws Exception {
    AGStream<Integer> stream = new AGStream<>();
    CompletableFuture<Void> gate = new CompletableFuture<>();
    List<Integer> got = new CopyOnWriteArrayList<>();
    AGConsumer<Integer> c = stream.consumeAsync(v -> {
      got.add(v);
      return v == 0 ? gate : CompletableFuture.completedFuture(null);
    });
    assertEquals(0, c.backpressure());
    stream.write(0);
    assertEquals(0, c.backpressure()); // taken by the handler
    stream.write(1);
    stream.write(2);
    stream.write(3);
    assertEquals(3, c.backpressure());
    assertEquals(3, stream.getBackpressure());
    assertEquals(3, stream.getConsumerBackpressure(c.id()));
    assertEquals(3, c.stats().backpressure());
    // Completion on another thread continues the drain there.
    Thread t = new Thread(() -> gate.complete(null));
    t.start();
    t.join(T * 1000);
    assertEquals(List.of(0, 1, 2, 3), got);
    assertEquals(0, c.backpressure());
  }

  @Test
  void backpressureInsideSyncHandlerExcludesTheCurrentItem() {
    AGStream<Integer> stream = new AGStream<>();
    List<Integer> seen = new ArrayList<>();
    AGConsumer<?>[] self = new AGConsumer<?>[1];
    self[0] = stream.consume(v -> {
      if (v == 0) {
        stream.write(1);
        stream.write(2);
      }
      seen.add(self[0].backpressure());
    });
    stream.write(0);
    assertEquals(List.of(2, 1, 0), seen);
  }

  @Test
  void consumerIdsAreUniqueAndStatsListed() {
    AGStream<String> s1 = new AGStream<>();
    AGStream<String> s2 = new AGStream<>();
    Set<Long> ids = new HashSet<>();
    AGConsumer<String> a = s1.createConsumer();
    AGConsumer<String> b = s1.consume(v -> { });
    AGConsumer<String> c = s2.createConsumer();
    ids.add(a.id());
    ids.add(b.id());
    ids.add(c.id());
    assertEquals(3, ids.size());
    assertTrue(b.id() > a.id());

    s1.write("x");
    s1.write("y");
    List<ConsumerStats> stats = s1.getConsumerStatsList();
    assertEquals(List.of(new ConsumerStats(a.id(), 2, null), new ConsumerStats(b.id(), 0, null)), stats);
    assertEquals(Optional.of(new ConsumerStats(a.id(), 2, null)), s1.getConsumerStats(a.id()));
    assertEquals(Optional.empty(), s1.getConsumerStats(c.id()));
    assertTrue(s1.hasConsumer(a.id()));
    assertFalse(s1.hasConsumer(c.id()));
    assertEquals(0, s1.getConsumerBackpressure(c.id()));
    assertEquals(2, s1.getBackpressure());
    assertEquals(0, s2.getBackpressure());

    a.kill();
    assertEquals(List.of(new ConsumerStats(b.id(), 0, null)), s1.getConsumerStatsList());
    assertEquals(0, a.backpressure());
    assertEquals(0, new AGStream<String>().getBackpressure());
  }

  @Test
  void killConsumerCloseConsumerWriteToConsumer() throws Exception {
    AGStream<String> stream = new AGStream<>();
    List<String> a = new ArrayList<>();
    List<String> b = new ArrayList<>();
    List<String> c = new ArrayList<>();
    AGConsumer<String> ca = stream.consume(a::add);
    AGConsumer<String> cb = stream.consume(b::add);
    AGConsumer<String> cc = stream.consume(c::add);

    stream.write("all");
    stream.writeToConsumer(cb.id(), "only-b");
    stream.killConsumer(ca.id());
    assertTrue(ca.isDone());
    stream.closeConsumer(cc.id());
    assertTrue(cc.isDone());
    stream.write("rest");
    stream.writeToConsumer(12345L, "nobody");
    stream.killConsumer(12345L);
    stream.closeConsumer(12345L);

    assertEquals(List.of("all"), a);
    assertEquals(List.of("all", "only-b", "rest"), b);
    assertEquals(List.of("all"), c);
    assertEquals(1, stream.getConsumerCount());
    assertFalse(cb.isDone());
  }

  @Test
  void closeConsumerDeliversItsBacklogFirst() throws Exception {
    AGStream<Integer> stream = new AGStream<>();
    CompletableFuture<Void> gate = new CompletableFuture<>();
    List<Integer> got = new CopyOnWriteArrayList<>();
    AGConsumer<Integer> c = stream.consumeAsync(v -> {
      got.add(v);
      return gate;
    });
    stream.write(1);
    stream.write(2);
    stream.closeConsumer(c.id());
    stream.write(3);
    assertFalse(c.isDone());
    gate.complete(null);
    await(c.done());
    assertEquals(List.of(1, 2), got);
  }

  @Test
  void handlerErrorsGoToTheHookAndDoNotEndTheConsumer() throws Exception {
    List<Throwable> errors = new CopyOnWriteArrayList<>();
    List<Long> ids = new CopyOnWriteArrayList<>();
    AGStream.setUncaughtHandler((consumer, error) -> {
      ids.add(consumer.id());
      errors.add(error);
    });
    AGStream<Integer> stream = new AGStream<>();
    List<Integer> got = new ArrayList<>();
    AGConsumer<Integer> sync = stream.consume(v -> {
      if (v == 1) {
        throw new IllegalStateException("boom");
      }
      got.add(v);
    });
    AGConsumer<Integer> async = stream.consumeAsync(v -> {
      if (v == 1) {
        return CompletableFuture.failedFuture(new IllegalArgumentException("async boom"));
      }
      if (v == 2) {
        return CompletableFuture.failedStage(new ArithmeticException("stage boom"));
      }
      return null;
    });
    stream.write(0);
    stream.write(1);
    stream.write(2);
    assertEquals(List.of(0, 2), got);
    assertFalse(sync.isDone());
    assertFalse(async.isDone());
    assertEquals(3, errors.size());
    assertTrue(errors.get(0) instanceof IllegalStateException);
    assertTrue(errors.get(1) instanceof IllegalArgumentException);
    assertTrue(errors.get(2) instanceof ArithmeticException);
    assertEquals(List.of(sync.id(), async.id(), async.id()), ids);
  }

  @Test
  void brokenHookDoesNotBreakDelivery() {
    AGStream.setUncaughtHandler((c, e) -> {
      throw new RuntimeException("hook broken");
    });
    java.util.logging.Logger log = java.util.logging.Logger.getLogger("io.agserver.stream");
    java.util.logging.Level old = log.getLevel();
    log.setLevel(java.util.logging.Level.OFF);
    try {
      AGStream<Integer> stream = new AGStream<>();
      List<Integer> got = new ArrayList<>();
      stream.consume(v -> {
        got.add(v);
        throw new IllegalStateException("handler");
      });
      stream.write(1);
      stream.write(2);
      assertEquals(List.of(1, 2), got);
    } finally {
      log.setLevel(old);
    }
  }

  @Test
  void hookCanBeReplacedAndRestored() {
    var custom = (java.util.function.BiConsumer<AGConsumer<?>, Throwable>) (c, e) -> { };
    AGStream.setUncaughtHandler(custom);
    assertSame(custom, AGStream.getUncaughtHandler());
    AGStream.setUncaughtHandler(null);
    assertSame(ErrorHook.DEFAULT, AGStream.getUncaughtHandler());
  }

  @Test
  void pushConsumersRejectNext() {
    AGStream<Integer> stream = new AGStream<>();
    assertThrows(UnsupportedOperationException.class, () -> stream.consume(v -> { }).next());
  }

  @Test
  void doneStageIsReadOnly() {
    AGStream<Integer> stream = new AGStream<>();
    AGConsumer<Integer> c = stream.consume(v -> { });
    c.done().toCompletableFuture().complete(null);
    assertFalse(c.isDone());
    assertFalse(c.done().toCompletableFuture().isDone());
  }
}
