package io.agserver.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class OnceTest {

  @Test
  void onceCompletesWithTheNextValue() throws Exception {
    AGStream<String> stream = new AGStream<>();
    stream.write("before");
    CompletableFuture<String> once = stream.once().toCompletableFuture();
    assertFalse(once.isDone());
    assertTrue(stream.hasConsumers());
    Thread writer = new Thread(() -> {
      stream.write("first");
      stream.write("second");
    });
    writer.start();
    assertEquals("first", once.get(5, TimeUnit.SECONDS));
    writer.join();
    assertFalse(stream.hasConsumers());
  }

  @Test
  void onceSeesTheConsumerGoneInItsCallbacks() throws Exception {
    AGStream<String> stream = new AGStream<>();
    CompletableFuture<Integer> count = stream.once().thenApply(v -> stream.getConsumerCount()).toCompletableFuture();
    stream.write("x");
    assertEquals(0, count.get(5, TimeUnit.SECONDS));
  }

  @Test
  void onceIsCancelledByClose() {
    AGStream<String> stream = new AGStream<>();
    CompletableFuture<String> once = stream.once().toCompletableFuture();
    stream.close();
    // CompletableFuture.get() rethrows a CancellationException cause as is.
    assertThrows(CancellationException.class, () -> once.get(5, TimeUnit.SECONDS));
    assertTrue(once.isCancelled());
    assertFalse(stream.hasConsumers());
  }

  @Test
  void onceIsCancelledByKill() {
    AGStream<String> stream = new AGStream<>();
    CompletableFuture<String> once = stream.once(10_000).toCompletableFuture();
    stream.kill();
    // CompletableFuture.get() rethrows a CancellationException cause as is.
    assertThrows(CancellationException.class, () -> once.get(5, TimeUnit.SECONDS));
    assertTrue(once.isCancelled());
    assertFalse(stream.hasConsumers());
  }

  @Test
  void onceTimesOut() throws Exception {
    AGStream<String> stream = new AGStream<>();
    CompletableFuture<String> once = stream.once(30).toCompletableFuture();
    ExecutionException e = assertThrows(ExecutionException.class, () -> once.get(5, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof StreamTimeoutException, e.getCause().toString());
    assertEquals("TimeoutError", ((StreamTimeoutException) e.getCause()).getName());
    assertFalse(stream.hasConsumers());
    // A later write reaches nobody and does not disturb the failed result.
    stream.write("late");
    assertTrue(once.isCompletedExceptionally());
  }

  @Test
  void onceWithTimeoutCompletesWithValueInTime() throws Exception {
    AGStream<String> stream = new AGStream<>();
    CompletableFuture<String> once = stream.once(10_000).toCompletableFuture();
    stream.write("v");
    assertEquals("v", once.get(5, TimeUnit.SECONDS));
    assertFalse(stream.hasConsumers());
  }

  @Test
  void cancellingOnceDropsItsConsumer() {
    AGStream<String> stream = new AGStream<>();
    CompletableFuture<String> once = stream.once().toCompletableFuture();
    assertEquals(1, stream.getConsumerCount());
    once.cancel(false);
    assertEquals(0, stream.getConsumerCount());
  }

  @Test
  void negativeTimeoutIsRejected() {
    AGStream<String> stream = new AGStream<>();
    assertThrows(IllegalArgumentException.class, () -> stream.once(-1));
  }

  @Test
  void onceOnDemuxedStream() throws Exception {
    StreamDemux<String> demux = new StreamDemux<>();
    CompletableFuture<String> once = demux.stream("a").once().toCompletableFuture();
    demux.write("b", "wrong");
    demux.write("a", "right");
    assertEquals("right", once.get(5, TimeUnit.SECONDS));
    assertEquals(0, demux.streamCount());
  }
}
