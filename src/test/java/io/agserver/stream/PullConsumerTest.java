package io.agserver.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PullConsumerTest {

  private static <V> V get(CompletionStage<V> stage) throws Exception {
    return stage.toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void nextTakesQueuedValuesThenWaits() throws Exception {
    AGStream<String> stream = new AGStream<>();
    AGConsumer<String> c = stream.createConsumer();
    stream.write("a");
    stream.write("b");
    assertEquals(2, c.backpressure());
    assertEquals(Next.of("a"), get(c.next()));
    assertEquals(1, c.backpressure());
    assertEquals(Next.of("b"), get(c.next()));
    assertEquals(0, c.backpressure());

    CompletableFuture<Next<String>> pending = c.next().toCompletableFuture();
    assertFalse(pending.isDone());
    Thread writer = new Thread(() -> stream.write("c"));
    writer.start();
    assertEquals(Next.of("c"), pending.get(5, TimeUnit.SECONDS));
    writer.join();
  }

  @Test
  void overlappingNextIsRejected() {
    AGStream<String> stream = new AGStream<>();
    AGConsumer<String> c = stream.createConsumer();
    c.next();
    assertThrows(IllegalStateException.class, c::next);
  }

  @Test
  void closeYieldsBacklogThenDone() throws Exception {
    AGStream<Integer> stream = new AGStream<>();
    AGConsumer<Integer> c = stream.createConsumer();
    for (int i = 0; i < 10; i++) {
      stream.write(i);
    }
    stream.close();
    assertEquals(11, c.backpressure()); // the close marker counts, as in the JS original
    assertEquals(1, stream.getConsumerCount());
    List<Integer> got = new ArrayList<>();
    while (true) {
      Next<Integer> n = get(c.next());
      if (n.done()) {
        break;
      }
      got.add(n.value());
    }
    assertEquals(10, got.size());
    assertEquals(0, stream.getConsumerCount());
    assertTrue(c.isDone());
    assertSame(Next.end(), get(c.next()));
    get(c.done());
  }

  @Test
  void consumerIsRemovedBeforeTheDoneStageCompletes() throws Exception {
    AGStream<Integer> stream = new AGStream<>();
    AGConsumer<Integer> c = stream.createConsumer();
    CompletableFuture<Integer> countSeen = new CompletableFuture<>();
    c.next().thenAccept(n -> countSeen.complete(stream.getConsumerCount()));
    stream.close();
    assertEquals(0, countSeen.get(5, TimeUnit.SECONDS));
  }

  @Test
  void killCompletesAPendingNextWithDone() throws Exception {
    AGStream<Integer> stream = new AGStream<>();
    AGConsumer<Integer> c = stream.createConsumer();
    CompletionStage<Next<Integer>> pending = c.next();
    stream.kill();
    assertTrue(get(pending).done());
    assertEquals(0, stream.getConsumerCount());
  }

  @Test
  void killDropsBacklogOfPullConsumer() throws Exception {
    AGStream<Integer> stream = new AGStream<>();
    AGConsumer<Integer> c = stream.createConsumer();
    for (int i = 0; i < 10; i++) {
      stream.write(i);
    }
    assertEquals(10, c.backpressure());
    stream.kill();
    assertEquals(0, c.backpressure());
    assertTrue(get(c.next()).done());
    stream.write(1);
    assertTrue(get(c.next()).done());
  }

  /**
   * Reads a pull consumer to its end without blocking and without recursing: a stage that is already complete is
   * handled in the loop, a pending one resumes the loop from its completion (on the writer's drain).
   */
  static <V> CompletableFuture<Integer> readAll(AGConsumer<V> consumer, java.util.function.Consumer<V> sink) {
    CompletableFuture<Integer> total = new CompletableFuture<>();
    int[] count = {0};
    Runnable[] loop = new Runnable[1];
    loop[0] = () -> {
      while (true) {
        CompletableFuture<Next<V>> f = consumer.next().toCompletableFuture();
        if (!f.isDone()) {
          f.thenAccept(n -> {
            if (n.done()) {
              total.complete(count[0]);
            } else {
              count[0]++;
              sink.accept(n.value());
              loop[0].run();
            }
          });
          return;
        }
        Next<V> n = f.join();
        if (n.done()) {
          total.complete(count[0]);
          return;
        }
        count[0]++;
        sink.accept(n.value());
      }
    };
    loop[0].run();
    return total;
  }

  @Test
  void nextFromInsideCompletionCallbacksStaysFlat() throws Exception {
    AGStream<Integer> stream = new AGStream<>();
    AGConsumer<Integer> c = stream.createConsumer();
    int n = 200_000;
    int[] expected = {0};
    boolean[] outOfOrder = {false};
    CompletableFuture<Integer> total = readAll(c, v -> {
      if (v != expected[0]++) {
        outOfOrder[0] = true;
      }
    });
    // Every write completes a pending next() whose callback asks for the next one, on the writer's stack.
    Thread writer = new Thread(null, () -> {
      for (int i = 0; i < n; i++) {
        stream.write(i);
      }
      stream.close();
    }, "writer", 256 * 1024);
    writer.start();
    assertEquals(n, total.get(30, TimeUnit.SECONDS));
    writer.join();
    assertFalse(outOfOrder[0]);
  }

  @Test
  void blockingReaderDrainsBacklog() throws Exception {
    AGStream<Integer> stream = new AGStream<>();
    AGConsumer<Integer> c = stream.createConsumer();
    int n = 100_000;
    for (int i = 0; i < n; i++) {
      stream.write(i);
    }
    stream.close();
    int count = 0;
    while (true) {
      Next<Integer> next = get(c.next());
      if (next.done()) {
        break;
      }
      assertEquals(count++, next.value());
      assertEquals(n - count + 1, c.backpressure()); // the close marker is still ahead
    }
    assertEquals(n, count);
    assertEquals(0, stream.getConsumerCount());
  }

  /** Port of the JS test "should track backpressure correctly when writing to and consuming stream intermittently
   * with multiple consumers". */
  @Test
  void backpressureWithMultipleConsumersMatchesJs() throws Exception {
    AGStream<String> stream = new AGStream<>();
    AGConsumer<String> a = stream.createConsumer();
    assertEquals(1, stream.getConsumerStatsList().size());
    assertEquals(0, stream.getConsumerStatsList().get(0).backpressure());
    stream.write("a0");
    assertEquals(1, stream.getConsumerStatsList().get(0).backpressure());
    stream.write("a1");
    stream.write("a2");
    AGConsumer<String> b = stream.createConsumer();
    stream.write("a3");
    stream.write("a4");
    assertEquals(2, stream.getConsumerStatsList().size());
    assertEquals(5, stream.getConsumerStatsList().get(0).backpressure());
    assertEquals(5, stream.getBackpressure());
    assertEquals(5, a.backpressure());
    assertEquals(5, stream.getConsumerBackpressure(a.id()));
    assertEquals(2, b.backpressure());
    assertEquals(2, stream.getConsumerBackpressure(b.id()));

    get(a.next());
    assertEquals(4, stream.getConsumerStatsList().get(0).backpressure());
    get(a.next());
    get(a.next());
    assertEquals(2, stream.getConsumerStatsList().get(0).backpressure());

    stream.write("a5");
    stream.write("a6");
    stream.write("a7");
    assertEquals(5, stream.getConsumerStatsList().get(0).backpressure());
    assertEquals(5, stream.getConsumerBackpressure(b.id()));

    stream.close();
    assertEquals(6, stream.getConsumerStatsList().get(0).backpressure());
    assertEquals(6, stream.getBackpressure());

    for (int i = 0; i < 5; i++) {
      get(a.next());
    }
    assertEquals(6, stream.getConsumerBackpressure(b.id()));
    assertEquals(1, stream.getConsumerStatsList().get(0).backpressure());

    for (int i = 0; i < 5; i++) {
      get(b.next());
    }
    assertEquals(1, stream.getConsumerBackpressure(b.id()));
    Next<String> bData = get(b.next());
    assertEquals(0, stream.getConsumerBackpressure(b.id()));
    assertEquals(1, stream.getConsumerStatsList().size());
    assertEquals(1, stream.getConsumerStatsList().get(0).backpressure());
    assertEquals(1, stream.getBackpressure());

    Next<String> aData = get(a.next());
    assertEquals(0, stream.getConsumerStatsList().size());
    assertTrue(aData.done());
    assertTrue(bData.done());
    assertEquals(0, a.backpressure());
    assertEquals(0, b.backpressure());
    assertEquals(0, stream.getBackpressure());
    assertEquals(0, stream.getConsumerCount());
  }

  @Test
  void killRacingWithABlockedReaderAlwaysEndsIt() throws Exception {
    for (int round = 0; round < 200; round++) {
      AGStream<Integer> stream = new AGStream<>();
      AGConsumer<Integer> c = stream.createConsumer();
      CompletableFuture<Integer> total = readAll(c, v -> { });
      Thread writer = new Thread(() -> {
        for (int i = 0; i < 1000; i++) {
          stream.write(i);
        }
      });
      writer.start();
      Thread.yield();
      stream.kill();
      total.get(5, TimeUnit.SECONDS);
      writer.join();
      assertTrue(c.isDone());
      assertEquals(0, stream.getConsumerCount());
    }
  }
}
