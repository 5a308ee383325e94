package io.agserver.pubsub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The in-memory broker alone, with stub subscribers: cost, races, exactly-once delivery. */
class AGSimpleBrokerTest {

  /** Counts deliveries; nothing else, so that 100,000 of them stay cheap. */
  private static final class Counter implements AGSubscriber {
    private final String id;
    int delivered;

    Counter(String id) {
      this.id = id;
    }

    @Override
    public String id() {
      return id;
    }

    @Override
    public void deliverPublish(String channel, Object data, String encoded) {
      delivered++;
    }
  }

  /** A subscriber that runs {@code onPublish} at every publish it gets. */
  private static AGSubscriber subscriber(String id, Runnable onPublish) {
    return new AGSubscriber() {
      @Override
      public String id() {
        return id;
      }

      @Override
      public void deliverPublish(String channel, Object data, String encoded) {
        onPublish.run();
      }
    };
  }

  private final AGSimpleBroker broker = new AGSimpleBroker();
  private ExecutorService pool;

  @AfterEach
  void close() {
    broker.close();
    if (pool != null) {
      pool.shutdownNow();
    }
  }

  @Test
  void aHundredThousandSubscribersJoinAndLeaveOneChannelQuickly() {
    int n = 100_000;
    Counter[] subscribers = new Counter[n];
    for (int i = 0; i < n; i++) {
      subscribers[i] = new Counter("s" + i);
    }
    // A copy of the subscriber array per subscribe is some 5 billion element copies at this
    // size: minutes. A set per channel is well under a second; the limit only catches O(n²).
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
      for (Counter subscriber : subscribers) {
        broker.subscribeSocket(subscriber, "big");
      }
      broker.subscribeSocket(subscribers[0], "big");
      assertEquals(n, broker.subscriberCount("big"), "a second subscribe adds nothing");
      broker.transmitPublish("big", 1);
      for (Counter subscriber : subscribers) {
        assertEquals(1, subscriber.delivered);
      }
      for (int i = 0; i < n; i += 2) {
        broker.unsubscribeSocket(subscribers[i], "big");
      }
      broker.transmitPublish("big", 2);
      for (int i = 0; i < n; i++) {
        assertEquals(i % 2 == 0 ? 1 : 2, subscribers[i].delivered);
      }
      for (int i = 1; i < n; i += 2) {
        broker.unsubscribeSocket(subscribers[i], "big");
      }
      assertFalse(broker.isSubscribed("big"));
      assertEquals(List.of(), broker.subscriptions());
    });
  }

  @Test
  void aPublishReachesSubscribersInTheOrderTheySubscribed() {
    // As ag-simple-broker does (its sockets by id in a JavaScript object, iterated in insertion
    // order): subscribers that joined later, or stopped reading, are written to after the others.
    List<String> reached = new ArrayList<>();
    List<String> subscribed = new ArrayList<>();
    List<AGSubscriber> subscribers = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      String id = Long.toString((i * 7_919L + 13) % 1_009 * 104_729L, 36); // ids in no order of their own
      AGSubscriber subscriber = subscriber(id, () -> reached.add(id));
      subscribers.add(subscriber);
      subscribed.add(id);
      broker.subscribeSocket(subscriber, "room");
    }
    broker.transmitPublish("room", 1);
    assertEquals(subscribed, reached);

    broker.subscribeSocket(subscribers.get(1), "room"); // already there: stays in its place
    broker.unsubscribeSocket(subscribers.get(0), "room");
    broker.subscribeSocket(subscribers.get(0), "room"); // back again: last
    reached.clear();
    broker.transmitPublish("room", 2);
    List<String> expected = new ArrayList<>(subscribed.subList(1, subscribed.size()));
    expected.add(subscribed.get(0));
    assertEquals(expected, reached);
    assertEquals(1_000, broker.subscriberCount("room"));
  }

  @Test
  void oneWhoLeavesAndJoinsAgainDuringADeliveryGetsItOnce() {
    // The delivery reaches x first; y, reached next, makes x leave and join again: x goes last,
    // behind z, where the delivery is still to go, and must not be reached a second time.
    List<String> reached = new ArrayList<>();
    AGSubscriber x = subscriber("x", () -> reached.add("x"));
    AGSubscriber y = subscriber("y", () -> {
      reached.add("y");
      if (reached.equals(List.of("x", "y"))) { // the first delivery only
        broker.unsubscribeSocket(x, "room");
        broker.subscribeSocket(x, "room");
      }
    });
    RecordingSubscriber z = new RecordingSubscriber("z");
    broker.subscribeSocket(x, "room");
    broker.subscribeSocket(y, "room");
    broker.subscribeSocket(z, "room");
    broker.transmitPublish("room", 1);
    assertEquals(List.of("x", "y"), reached);
    assertEquals(List.of(1), z.data(Integer.class));
    reached.clear();
    broker.transmitPublish("room", 2);
    assertEquals(List.of("y", "x"), reached, "x joined again after y");
  }

  @Test
  void aSubscribeRacingTheLastUnsubscribeIsNeverLost() throws Exception {
    pool = Executors.newFixedThreadPool(1);
    AtomicBoolean stop = new AtomicBoolean();
    Counter leaving = new Counter("leaving");
    Counter joining = new Counter("joining");
    // One thread keeps creating the channel and emptying it; the other joins meanwhile. When its
    // subscribe lands on a channel just being emptied, it must end up in the channel publishes
    // see, not in the one being dropped. Both loop without pause so that their steps interleave
    // in every order many times over.
    Future<?> churn = pool.submit(() -> {
      while (!stop.get()) {
        broker.subscribeSocket(leaving, "c");
        broker.unsubscribeSocket(leaving, "c");
      }
    });
    try {
      assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
        for (int round = 0; round < 300_000; round++) {
          broker.subscribeSocket(joining, "c");
          int before = joining.delivered;
          broker.transmitPublish("c", round);
          if (joining.delivered != before + 1) {
            fail("round " + round + ": a publish after the subscribe returned did not reach it");
          }
          broker.unsubscribeSocket(joining, "c");
        }
      });
    } finally {
      stop.set(true);
      churn.get();
    }
    assertFalse(broker.isSubscribed("c"));
    assertEquals(0, broker.subscriberCount("c"));
  }

  @Test
  void publishesDuringSubscribeChurnArriveExactlyOnceWhileSubscribed() throws Exception {
    pool = Executors.newFixedThreadPool(3);
    AtomicLong started = new AtomicLong();
    AtomicLong finished = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();
    RecordingSubscriber steady = new RecordingSubscriber("steady");
    broker.subscribeSocket(steady, "other");
    // One publisher: sequence numbers are taken in order, so "finished" says every publish
    // below it is over, and a number taken after a subscribe returned belongs to a publish
    // that started after it.
    Future<?> publisher = pool.submit(() -> {
      while (!stop.get()) {
        long seq = started.getAndIncrement();
        broker.transmitPublish("churn", seq);
        finished.set(seq + 1);
      }
      return null;
    });
    record Window(RecordingSubscriber subscriber, long joined, long certainUntil, long left) {}
    List<Future<List<Window>>> churners = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      int thread = t;
      churners.add(pool.submit(() -> {
        List<Window> windows = new ArrayList<>();
        for (int round = 0; round < 300; round++) {
          RecordingSubscriber subscriber = new RecordingSubscriber("r" + thread + "-" + round);
          broker.subscribeSocket(subscriber, "churn");
          long joined = started.get();
          while (finished.get() < joined + 3) {
            Thread.onSpinWait();
          }
          long certainUntil = finished.get();
          broker.unsubscribeSocket(subscriber, "churn");
          windows.add(new Window(subscriber, joined, certainUntil, started.get()));
        }
        return windows;
      }));
    }
    List<Window> windows = new ArrayList<>();
    assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
      for (Future<List<Window>> churner : churners) {
        windows.addAll(churner.get());
      }
    });
    stop.set(true);
    publisher.get();
    for (Window window : windows) {
      BitSet seen = new BitSet();
      for (long seq : window.subscriber().data(Long.class)) {
        if (seen.get((int) seq)) {
          fail(window.subscriber().id() + " got publish " + seq + " twice");
        }
        seen.set((int) seq);
        assertTrue(seq < window.left(), window.subscriber().id() + " got publish " + seq
            + ", which started after its unsubscribe returned (" + window.left() + ")");
      }
      for (long seq = window.joined(); seq < window.certainUntil(); seq++) {
        assertTrue(seen.get((int) seq), window.subscriber().id() + " missed publish " + seq
            + " (subscribed before " + window.joined() + ", left after " + window.certainUntil() + ")");
      }
    }
    assertTrue(steady.received.isEmpty(), "another channel's subscriber got nothing");
  }

  @Test
  void everyCompletedStageIsItsOwn() {
    Counter subscriber = new Counter("s");
    List<Supplier<CompletionStage<Void>>> calls = List.of(
        () -> broker.subscribeSocket(subscriber, "c"),
        () -> broker.transmitPublish("c", 1),
        () -> broker.invokePublish("c", 1),
        () -> broker.transmitPublish("nobody", 1),
        () -> broker.unsubscribeSocket(subscriber, "c"),
        () -> broker.unsubscribeSocket(subscriber, "c"),
        broker::ready);
    for (Supplier<CompletionStage<Void>> call : calls) {
      CompletionStage<Void> first = call.get();
      // A caller may do this to what it was given; it must not reach anyone else.
      first.toCompletableFuture().obtrudeException(new IllegalStateException("poisoned"));
      CompletionStage<Void> second = call.get();
      assertNotSame(first, second);
      CompletableFuture<Void> future = second.toCompletableFuture();
      assertTrue(future.isDone() && !future.isCompletedExceptionally(), "a later call's stage is fine");
    }
  }
}
