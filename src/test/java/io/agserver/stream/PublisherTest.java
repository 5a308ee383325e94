package io.agserver.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PublisherTest {

  /** Records signals; requests nothing by itself. */
  static class Recorder<V> implements Flow.Subscriber<V> {
    final List<V> items = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    final CompletableFuture<Void> completed = new CompletableFuture<>();
    final AtomicInteger concurrent = new AtomicInteger();
    volatile boolean overlapped;
    volatile Throwable error;
    volatile Flow.Subscription subscription;
    final long initialRequest;

    Recorder(long initialRequest) {
      this.initialRequest = initialRequest;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      if (initialRequest > 0) {
        s.request(initialRequest);
      }
    }

    @Override
    public void onNext(V item) {
      if (concurrent.incrementAndGet() != 1) {
        overlapped = true;
      }
      items.add(item);
      concurrent.decrementAndGet();
    }

    @Override
    public void onError(Throwable t) {
      error = t;
      completed.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      completed.complete(null);
    }
  }

  @Test
  void honoursRequestedDemand() throws Exception {
    AGStream<Integer> stream = new AGStream<>();
    Recorder<Integer> r = new Recorder<>(2);
    stream.publisher().subscribe(r);
    assertEquals(1, stream.getConsumerCount());
    for (int i = 0; i < 5; i++) {
      stream.write(i);
    }
    assertEquals(List.of(0, 1), r.items);
    assertEquals(3, stream.getBackpressure());
    r.subscription.request(1);
    assertEquals(List.of(0, 1, 2), r.items);
    // Demand from another thread drains there.
    Thread t = new Thread(() -> r.subscription.request(10));
    t.start();
    t.join(5000);
    assertEquals(List.of(0, 1, 2, 3, 4), r.items);
    stream.write(5);
    assertEquals(List.of(0, 1, 2, 3, 4, 5), r.items);
    assertEquals(0, stream.getBackpressure());
  }

  @Test
  void cancelKillsTheConsumerWithoutSignals() {
    AGStream<Integer> stream = new AGStream<>();
    Recorder<Integer> r = new Recorder<>(Long.MAX_VALUE);
    stream.publisher().subscribe(r);
    stream.write(1);
    r.subscription.cancel();
    stream.write(2);
    assertEquals(List.of(1), r.items);
    assertFalse(r.completed.isDone());
    assertEquals(0, stream.getConsumerCount());
  }

  @Test
  void eachSubscriberIsAnIndependentConsumer() {
    AGStream<Integer> stream = new AGStream<>();
    Flow.Publisher<Integer> publisher = stream.publisher();
    Recorder<Integer> a = new Recorder<>(Long.MAX_VALUE);
    Recorder<Integer> b = new Recorder<>(1);
    publisher.subscribe(a);
    publisher.subscribe(b);
    assertEquals(2, stream.getConsumerCount());
    stream.write(1);
    stream.write(2);
    assertEquals(List.of(1, 2), a.items);
    assertEquals(List.of(1), b.items);
  }

  @Test
  void closeCompletesAfterBacklogEvenWithoutFurtherDemand() throws Exception {
    AGStream<Integer> stream = new AGStream<>();
    Recorder<Integer> r = new Recorder<>(2);
    stream.publisher().subscribe(r);
    stream.write(1);
    stream.write(2);
    stream.close();
    r.completed.get(5, TimeUnit.SECONDS);
    assertEquals(List.of(1, 2), r.items);
    assertEquals(0, stream.getConsumerCount());
  }

  @Test
  void closeWaitsForDemandToDeliverBacklog() throws Exception {
    AGStream<Integer> stream = new AGStream<>();
    Recorder<Integer> r = new Recorder<>(1);
    stream.publisher().subscribe(r);
    stream.write(1);
    stream.write(2);
    stream.close();
    assertFalse(r.completed.isDone());
    r.subscription.request(1);
    r.completed.get(5, TimeUnit.SECONDS);
    assertEquals(List.of(1, 2), r.items);
  }

  @Test
  void killCompletesTheSubscriber() throws Exception {
    AGStream<Integer> stream = new AGStream<>();
    Recorder<Integer> r = new Recorder<>(0);
    stream.publisher().subscribe(r);
    stream.write(1);
    stream.kill();
    r.completed.get(5, TimeUnit.SECONDS);
    assertTrue(r.items.isEmpty());
    assertNull(r.error);
  }

  @Test
  void nonPositiveRequestSignalsError() {
    AGStream<Integer> stream = new AGStream<>();
    Recorder<Integer> r = new Recorder<>(0);
    stream.publisher().subscribe(r);
    r.subscription.request(0);
    assertTrue(r.error instanceof IllegalArgumentException);
    assertEquals(0, stream.getConsumerCount());
  }

  @Test
  void cancelInsideOnSubscribeNeverAttaches() {
    AGStream<Integer> stream = new AGStream<>();
    Recorder<Integer> r = new Recorder<>(0) {
      @Override
      public void onSubscribe(Flow.Subscription s) {
        s.cancel();
      }
    };
    stream.publisher().subscribe(r);
    assertEquals(0, stream.getConsumerCount());
  }

  @Test
  void signalsAreSerialUnderConcurrentWritesAndRequests() throws Exception {
    AGStream<Integer> stream = new AGStream<>();
    Recorder<Integer> r = new Recorder<>(1);
    stream.publisher().subscribe(r);
    int writers = 4;
    int perWriter = 20_000;
    CountDownLatch start = new CountDownLatch(1);
    Thread[] threads = new Thread[writers + 1];
    for (int w = 0; w < writers; w++) {
      threads[w] = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < perWriter; i++) {
          stream.write(i);
        }
      });
    }
    threads[writers] = new Thread(() -> {
      try {
        start.await();
      } catch (InterruptedException e) {
        return;
      }
      for (int i = 0; i < writers * perWriter; i++) {
        r.subscription.request(1);
      }
    });
    for (Thread t : threads) {
      t.start();
    }
    start.countDown();
    for (Thread t : threads) {
      t.join(30_000);
    }
    assertEquals(writers * perWriter, r.items.size());
    assertFalse(r.overlapped);
  }
}
