package io.agserver.redis;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.agserver.ops.ServerFigures;
import io.agserver.protocol.AGError;
import io.agserver.protocol.Undefined;
import io.agserver.pubsub.RecordingSubscriber;

/** The Redis engine of two instances on one real redis-server. */
class RedisBrokerTest {

  @TempDir
  Path dir;

  private RedisEngines engines;
  private RedisProcess redis;
  private List<Throwable> warnings;

  @BeforeEach
  void startRedis() throws Exception {
    engines = RedisEngines.start(dir);
    redis = engines.redis;
    warnings = engines.warnings;
  }

  @AfterEach
  void stop() throws Exception {
    engines.close();
  }

  private RedisBroker broker(String uri) {
    return engines.broker(uri, UnaryOperator.identity(), Duration.ofSeconds(2));
  }

  private RedisBroker broker(String uri, UnaryOperator<RedisLink> decorate, Duration commandTimeout) {
    return engines.broker(uri, decorate, commandTimeout);
  }

  private RedisBroker connected() throws Exception {
    return engines.connected();
  }

  private RedisBroker connected(UnaryOperator<RedisLink> decorate) throws Exception {
    return engines.connected(decorate);
  }

  private static void done(java.util.concurrent.CompletionStage<?> stage) throws Exception {
    stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  private int redisSubscribers(String channel) throws Exception {
    // PUBSUB NUMSUB answers "channel\ncount".
    String[] lines = redis.cli("PUBSUB", "NUMSUB", "test:{" + channel + "}").trim().split("\n");
    return Integer.parseInt(lines[lines.length - 1].trim());
  }

  @Test
  void aPublishOnEitherInstanceReachesEverySubscriberOnBothOnceAndInOrder() throws Exception {
    RedisBroker a = connected();
    RedisBroker b = connected();
    RecordingSubscriber onA1 = new RecordingSubscriber("a1");
    RecordingSubscriber onA2 = new RecordingSubscriber("a2");
    RecordingSubscriber onB = new RecordingSubscriber("b1");
    done(a.subscribeSocket(onA1, "room"));
    done(a.subscribeSocket(onA2, "room"));
    done(b.subscribeSocket(onB, "room"));
    for (int i = 0; i < 500; i++) {
      (i % 2 == 0 ? a : b).transmitPublish("room", Map.of("from", i % 2 == 0 ? "a" : "b", "n", i));
    }
    for (RecordingSubscriber recorder : List.of(onA1, onA2, onB)) {
      await().atMost(Duration.ofSeconds(20)).until(() -> recorder.received.size() >= 500);
    }
    for (RecordingSubscriber recorder : List.of(onA1, onA2, onB)) {
      assertEquals(500, recorder.received.size(), recorder.id + " got each publish once");
      // One publisher's publishes arrive in the order sent.
      for (String from : List.of("a", "b")) {
        List<Integer> order = recorder.received.stream().map(p -> (Map<?, ?>) p.data())
            .filter(m -> from.equals(m.get("from"))).map(m -> ((Number) m.get("n")).intValue()).toList();
        assertEquals(250, order.size());
        for (int i = 1; i < order.size(); i++) {
          assertTrue(order.get(i) > order.get(i - 1), recorder.id + " got " + from + "'s publishes out of order");
        }
      }
    }
    // The frame arrives as it was encoded once, on the instance where it entered, and every
    // local subscriber gets that same text.
    onA1.received.clear();
    onA2.received.clear();
    done(b.invokePublish("room", Map.of("text", "hi")));
    await().atMost(Duration.ofSeconds(20)).until(() -> onA1.received.size() == 1 && onA2.received.size() == 1);
    assertEquals("{\"event\":\"#publish\",\"data\":{\"channel\":\"room\",\"data\":{\"text\":\"hi\"}}}",
        onA1.received.get(0).encoded());
    assertTrue(onA1.received.get(0).encoded() == onA2.received.get(0).encoded(),
        "every local subscriber gets the same frame, not a copy");
  }

  @Test
  void aSubscribeCompletesOnceRedisHasItSoThatAPublishRightAfterItArrives() throws Exception {
    RedisBroker a = connected();
    RedisBroker b = connected();
    for (int i = 0; i < 100; i++) {
      RecordingSubscriber recorder = new RecordingSubscriber("s" + i);
      done(a.subscribeSocket(recorder, "fresh-" + i));
      done(b.invokePublish("fresh-" + i, i));
      await().atMost(Duration.ofSeconds(20)).until(() -> recorder.received.size() == 1);
      assertEquals(i, ((Number) recorder.received.get(0).data()).intValue());
    }
  }

  @Test
  void anInstanceHoldsOneRedisSubscriptionPerChannelFromItsFirstLocalSubscriberToItsLast() throws Exception {
    RedisBroker a = connected();
    RecordingSubscriber one = new RecordingSubscriber("one");
    RecordingSubscriber two = new RecordingSubscriber("two");
    assertEquals(0, redisSubscribers("c"));
    done(a.subscribeSocket(one, "c"));
    done(a.subscribeSocket(two, "c"));
    assertEquals(1, redisSubscribers("c"));
    done(a.unsubscribeSocket(one, "c"));
    assertEquals(1, redisSubscribers("c"));
    done(a.unsubscribeSocket(two, "c"));
    await().atMost(Duration.ofSeconds(20)).until(() -> redisSubscribers("c") == 0);
    assertFalse(a.isSubscribed("c"));
    // Never a pattern subscription that would bring every channel to every instance.
    assertEquals("0", redis.cli("PUBSUB", "NUMPAT").trim());
  }

  @Test
  void subscribeAndUnsubscribeChurnLeavesRedisAsTheLastChangeLeftIt() throws Exception {
    RedisBroker a = connected();
    RecordingSubscriber recorder = new RecordingSubscriber("r");
    for (int i = 0; i < 200; i++) {
      a.subscribeSocket(recorder, "churn");
      a.unsubscribeSocket(recorder, "churn");
    }
    a.subscribeSocket(recorder, "churn");
    await().atMost(Duration.ofSeconds(20)).until(() -> redisSubscribers("churn") == 1);
    for (int i = 0; i < 200; i++) {
      a.subscribeSocket(recorder, "churn");
      a.unsubscribeSocket(recorder, "churn");
    }
    // A publish sent after the last UNSUBSCRIBE's reply cannot reach this instance.
    RedisBroker b = connected();
    await().atMost(Duration.ofSeconds(20)).until(() -> redisSubscribers("churn") == 0);
    done(b.invokePublish("churn", "late"));
    assertTrue(recorder.received.stream().noneMatch(p -> "late".equals(p.data())));
  }

  @Test
  void eachPublishCommandsRoundTripAndFailureIsCountedInTheServersFigures() throws Exception {
    RedisBroker broker = connected();
    ServerFigures figures = new ServerFigures(null);
    List<Long> durations = new CopyOnWriteArrayList<>();
    figures.recordBrokerPublishDurations(durations::add);
    broker.countPublishesIn(figures);
    done(broker.invokePublish("counted", "one"));
    done(broker.invokePublish("counted", "two"));
    done(broker.publishWithHistory("counted-history", "three",
        new io.agserver.pubsub.HistoryOptions(10, Duration.ofMinutes(1))));
    assertEquals(3, figures.brokerPublishes());
    assertEquals(0, figures.brokerPublishErrors());
    assertEquals(3, durations.size());
    assertTrue(durations.stream().allMatch(nanos -> nanos > 0), durations.toString());

    redis.stop();
    org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> broker.invokePublish("counted", "lost").toCompletableFuture().get(20, TimeUnit.SECONDS));
    // A transmitted publish fails as well, reported as a warning rather than to its caller.
    broker.transmitPublish("counted", "lost too");
    await().atMost(Duration.ofSeconds(20)).until(() -> figures.brokerPublishErrors() == 2);
    assertEquals(3, figures.brokerPublishes());
    assertEquals(3, durations.size());
  }

  @Test
  void publishesFailWithBrokerErrorWhileRedisIsDownAndFlowAgainAfterItRestartsWithoutResubscribing() throws Exception {
    RedisBroker a = connected();
    RedisBroker b = connected();
    RecordingSubscriber onA = new RecordingSubscriber("a");
    RecordingSubscriber onB = new RecordingSubscriber("b");
    done(a.subscribeSocket(onA, "live"));
    done(b.subscribeSocket(onB, "live"));

    redis.stop();
    ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> b.invokePublish("live", "during").toCompletableFuture().get(20, TimeUnit.SECONDS));
    AGError error = assertInstanceOf(AGError.class, refused.getCause());
    assertEquals("BrokerError", error.name());
    // A transmitted publish is dropped with a warning.
    int before = warnings.size();
    a.transmitPublish("live", "dropped");
    await().atMost(Duration.ofSeconds(20)).until(() -> warnings.stream().skip(before)
        .anyMatch(w -> w instanceof AGError e && e.name().equals("BrokerError") && e.getMessage().contains("live")));

    // The failed publish reached the subscribers of the instance it entered, and no other.
    assertEquals(1, onB.count("during"));
    assertFalse(onA.has("during"));

    redis.start();
    // Nobody subscribes again: the engines renew their channels by themselves.
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
      a.transmitPublish("live", "probe");
      return onA.has("probe") && onB.has("probe");
    });
    onA.received.clear();
    onB.received.clear();
    done(b.invokePublish("live", "after"));
    await().atMost(Duration.ofSeconds(20)).until(() -> onA.has("after") && onB.has("after"));
    assertEquals(1, onA.count("after"));
    assertEquals(1, onB.count("after"));

  }

  @Test
  void anEngineStartedWhileRedisIsUnreachableWarnsAndConnectsWhenRedisComes() throws Exception {
    RedisProcess later = RedisProcess.notStarted(dir);
    RedisBroker a = broker(later.uri());
    CompletableFuture<Void> ready = a.ready().toCompletableFuture();
    await().atMost(Duration.ofSeconds(20)).until(() -> warnings.stream()
        .anyMatch(w -> w instanceof AGError e && e.name().equals("BrokerError") && e.getMessage().contains("Cannot reach")));
    assertFalse(ready.isDone());
    // A server-side subscription made now (the exchange's, at startup) takes effect once Redis answers.
    RecordingSubscriber early = new RecordingSubscriber("exchange");
    CompletableFuture<Void> unconfirmed = a.subscribeSocket(early, "boot").toCompletableFuture();
    ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> unconfirmed.get(20, TimeUnit.SECONDS));
    assertEquals("BrokerError", ((AGError) failed.getCause()).name());
    assertTrue(a.isSubscribed("boot"));
    try {
      later.start();
      ready.get(30, TimeUnit.SECONDS);
      RedisBroker b = broker(later.uri());
      b.ready().toCompletableFuture().get(20, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
        b.transmitPublish("boot", "hello");
        return early.has("hello");
      });
    } finally {
      later.close();
    }
  }

  @Test
  void aPublishWithoutDataArrivesWithoutData() throws Exception {
    RedisBroker a = connected();
    RecordingSubscriber recorder = new RecordingSubscriber("r");
    done(a.subscribeSocket(recorder, "empty"));
    done(a.invokePublish("empty", Undefined.INSTANCE));
    await().atMost(Duration.ofSeconds(20)).until(() -> recorder.received.size() == 1);
    assertEquals(Undefined.INSTANCE, recorder.received.get(0).data());
    assertEquals("{\"event\":\"#publish\",\"data\":{\"channel\":\"empty\"}}", recorder.received.get(0).encoded());
  }

  @Test
  void aSubscriberThatThrowsDoesNotCostTheOthersThePublish() throws Exception {
    RedisBroker a = connected();
    RecordingSubscriber good = new RecordingSubscriber("good");
    io.agserver.pubsub.AGSubscriber bad = new io.agserver.pubsub.AGSubscriber() {
      @Override
      public String id() {
        return "bad";
      }

      @Override
      public void deliverPublish(String channel, Object data, String encoded) {
        throw new IllegalStateException("boom");
      }
    };
    done(a.subscribeSocket(bad, "mixed"));
    done(a.subscribeSocket(good, "mixed"));
    done(a.invokePublish("mixed", 1));
    done(a.invokePublish("mixed", 2));
    await().atMost(Duration.ofSeconds(20)).until(() -> good.received.size() == 2);
    assertTrue(warnings.stream().anyMatch(w -> "boom".equals(w.getMessage())));
  }

  @Test
  void aSubscribeMadeWhileTheEngineConnectsForTheFirstTimeWaitsForTheConnection() throws Exception {
    // A client may subscribe as soon as the application has started, while the engine's first
    // connect is still under way: its subscribe waits for it (as long as a command may wait).
    RedisBroker a = broker(redis.uri(), UnaryOperator.identity(), Duration.ofSeconds(20));
    CompletableFuture<Void> ready = a.ready().toCompletableFuture();
    RecordingSubscriber early = new RecordingSubscriber("early");
    CompletableFuture<Void> joined = a.subscribeSocket(early, "early").toCompletableFuture();
    assertFalse(ready.isDone(), "the subscribe was made before the engine connected");
    done(joined);
    RedisBroker b = connected();
    done(b.invokePublish("early", "hello"));
    await().atMost(Duration.ofSeconds(20)).until(() -> early.has("hello"));
  }

  @Test
  void anUnsubscribeThatReachesRedisAfterTheNextSubscribeIsRenewed() throws Exception {
    // The last subscriber's UNSUBSCRIBE is held back until the next first subscriber's SUBSCRIBE
    // has been confirmed: Redis drops the subscription of a channel that is held again.
    List<String> heldBack = new CopyOnWriteArrayList<>();
    List<RedisLink> links = new CopyOnWriteArrayList<>();
    RedisBroker a = connected(link -> {
      links.add(link);
      return new ReorderingLink(link, heldBack);
    });
    RedisBroker b = connected();
    RecordingSubscriber leaving = new RecordingSubscriber("leaving");
    RecordingSubscriber joining = new RecordingSubscriber("joining");
    done(a.subscribeSocket(leaving, "handover"));
    done(a.unsubscribeSocket(leaving, "handover"));
    done(a.subscribeSocket(joining, "handover"));
    assertEquals(List.of("test:{handover}"), heldBack);
    done(links.get(0).unsubscribe(heldBack.get(0)));

    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
      b.transmitPublish("handover", "probe");
      return joining.has("probe");
    });
    assertEquals(1, redisSubscribers("handover"));
    assertFalse(leaving.has("probe"));
  }

  @Test
  void deliveriesAndCompletionsRunOnTheServersWorkersNeverOnRedisThreads() throws Exception {
    RedisBroker a = connected();
    RedisBroker b = connected();
    List<String> threads = new CopyOnWriteArrayList<>();
    io.agserver.pubsub.AGSubscriber subscriber = new io.agserver.pubsub.AGSubscriber() {
      @Override
      public String id() {
        return "threads";
      }

      @Override
      public void deliverPublish(String channel, Object data, String encoded) {
        threads.add("deliver " + Thread.currentThread().getName());
      }
    };
    a.subscribeSocket(subscriber, "where").thenRun(() -> threads.add("subscribed " + Thread.currentThread().getName()))
        .toCompletableFuture().get(20, TimeUnit.SECONDS);
    b.invokePublish("where", 1).thenRun(() -> threads.add("published " + Thread.currentThread().getName()))
        .toCompletableFuture().get(20, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(20)).until(() -> threads.size() == 3);
    // A stage already complete when handed out runs its dependents on the caller's thread (here
    // the test's); one completed later, on a worker: never on Lettuce's (test-redis-...) threads.
    String caller = Thread.currentThread().getName();
    for (String entry : threads) {
      assertTrue(entry.contains("test-worker") || entry.endsWith(" " + caller), entry);
      assertFalse(entry.contains("test-redis"), entry);
    }
    assertTrue(threads.stream().anyMatch(entry -> entry.startsWith("deliver test-worker")),
        "a delivery from Redis runs on a worker: " + threads);
  }

  @Test
  void aSubscriberWhoJoinsAHeldChannelWhileRedisIsDownIsRefusedUntilRedisConfirmsAgain() throws Exception {
    RedisBroker a = connected();
    RedisBroker b = connected();
    RecordingSubscriber holder = new RecordingSubscriber("holder");
    done(a.subscribeSocket(holder, "held"));
    redis.stop();
    int[] attempt = {0};
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
      RecordingSubscriber late = new RecordingSubscriber("late" + attempt[0]++);
      CompletableFuture<Void> joined = a.subscribeSocket(late, "held").toCompletableFuture();
      try {
        joined.get(20, TimeUnit.SECONDS);
        return false;
      } catch (ExecutionException refused) {
        return refused.getCause() instanceof AGError e && e.name().equals("BrokerError");
      } finally {
        a.unsubscribeSocket(late, "held");
      }
    });
    redis.start();
    RecordingSubscriber after = new RecordingSubscriber("after");
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
      try {
        done(a.subscribeSocket(after, "held"));
        return true;
      } catch (ExecutionException notYet) {
        a.unsubscribeSocket(after, "held");
        return false;
      }
    });
    // Acknowledged once Redis has the subscription again: a publish right after it arrives.
    done(b.invokePublish("held", "back"));
    await().atMost(Duration.ofSeconds(20)).until(() -> after.has("back") && holder.has("back"));
  }

  /** Holds back every UNSUBSCRIBE (the test sends it later itself). */
  private record ReorderingLink(RedisLink inner, List<String> heldBack) implements RedisLink {
    @Override
    public java.util.concurrent.CompletionStage<Void> connect() {
      return inner.connect();
    }

    @Override
    public boolean isOpen() {
      return inner.isOpen();
    }

    @Override
    public java.util.concurrent.CompletionStage<Void> subscribe(String redisChannel) {
      return inner.subscribe(redisChannel);
    }

    @Override
    public java.util.concurrent.CompletionStage<Void> unsubscribe(String redisChannel) {
      heldBack.add(redisChannel);
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public java.util.concurrent.CompletionStage<Void> publish(String redisChannel, String payload) {
      return inner.publish(redisChannel, payload);
    }

    @Override
    public java.util.concurrent.CompletionStage<List<Object>> script(LuaScript script, String[] keys, String... args) {
      return inner.script(script, keys, args);
    }

    @Override
    public CompletableFuture<Void> close() {
      return inner.close();
    }
  }

}
