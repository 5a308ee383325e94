package io.agserver.pubsub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.agserver.stream.AGConsumer;
import io.agserver.stream.ConsumerStats;

/** The server's exchange: channel listener streams kept apart, stages not shared. */
class AGExchangeTest {

  private final AGSimpleBroker broker = new AGSimpleBroker();
  private final AGExchange exchange = new AGExchange(broker);

  @AfterEach
  void close() {
    broker.close();
  }

  @Test
  void aSlashInAChannelNameDoesNotMixItsListenersWithAnotherChannels() {
    List<Object> ofAB = new CopyOnWriteArrayList<>();
    List<Object> ofA = new CopyOnWriteArrayList<>();
    // "a/b" + "subscribe" and "a" + "b/subscribe" once named the same stream.
    AGConsumer<Object> abConsumer = exchange.channel("a/b").listener("subscribe").consume(ofAB::add);
    AGConsumer<Object> aConsumer = exchange.channel("a").listener("b/subscribe").consume(ofA::add);

    exchange.subscribe("a/b");
    assertEquals(List.of(new AGExchange.SubscribeEvent("a/b")), ofAB);
    assertEquals(List.of(), ofA, "channel a heard nothing of channel a/b");

    AGChannel a = exchange.channel("a");
    AGChannel ab = exchange.channel("a/b");
    assertFalse(a.hasListenerConsumer("b/subscribe", abConsumer.id()));
    assertTrue(a.hasListenerConsumer("b/subscribe", aConsumer.id()));
    assertFalse(a.hasAnyListenerConsumer(abConsumer.id()));
    assertEquals(List.of(aConsumer.id()),
        a.getAllListenersConsumerStatsList().stream().map(ConsumerStats::id).toList());
    assertEquals(List.of(abConsumer.id()),
        ab.getAllListenersConsumerStatsList().stream().map(ConsumerStats::id).toList());

    // Ending channel a's listeners leaves those of a/b alone, and the other way round.
    a.killAllListeners();
    assertTrue(ab.hasAnyListenerConsumer(abConsumer.id()));
    assertFalse(a.hasAnyListenerConsumer(aConsumer.id()));
    exchange.unsubscribe("a/b");
    exchange.subscribe("a/b");
    assertEquals(2, ofAB.size(), "its listener outlived channel a's, and heard the second subscribe");
  }

  @Test
  void aBackslashInAChannelNameIsKeptApartToo() {
    List<Object> ofAX = new CopyOnWriteArrayList<>();
    List<Object> ofABackslash = new CopyOnWriteArrayList<>();
    // Escaping the slash alone would name both streams a\/x/subscribe.
    AGConsumer<Object> axConsumer = exchange.channel("a/x").listener("subscribe").consume(ofAX::add);
    exchange.channel("a\\").listener("x/subscribe").consume(ofABackslash::add);
    exchange.subscribe("a/x");
    assertEquals(1, ofAX.size());
    assertEquals(0, ofABackslash.size());
    exchange.channel("a\\").killAllListeners();
    assertTrue(exchange.channel("a/x").hasAnyListenerConsumer(axConsumer.id()));
    assertEquals(1, exchange.getAllChannelListenersConsumerStatsList().size());
  }

  @Test
  void everyCompletedStageIsItsOwn() {
    exchange.subscribe("c");
    List<Supplier<CompletionStage<Void>>> calls = List.of(
        () -> exchange.transmitPublish("c", 1),
        () -> exchange.invokePublish("c", 1),
        () -> exchange.channel("c").transmitPublish(1),
        () -> exchange.channel("c").invokePublish(1),
        () -> exchange.unsubscribe("nobody"),
        () -> exchange.channel("nobody").unsubscribe());
    for (Supplier<CompletionStage<Void>> call : calls) {
      CompletionStage<Void> first = call.get();
      first.toCompletableFuture().obtrudeException(new IllegalStateException("poisoned"));
      CompletionStage<Void> second = call.get();
      assertNotSame(first, second);
      CompletableFuture<Void> future = second.toCompletableFuture();
      assertTrue(future.isDone() && !future.isCompletedExceptionally(), "a later call's stage is fine");
    }
    CompletionStage<Void> left = exchange.unsubscribe("c");
    left.toCompletableFuture().obtrudeException(new IllegalStateException("poisoned"));
    exchange.subscribe("c");
    assertFalse(exchange.unsubscribe("c").toCompletableFuture().isCompletedExceptionally());
  }

  @Test
  void anUnsubscribeWhileTheBrokerIsSubscribingTheExchangeLeavesTheBrokerUnsubscribedToo() throws Exception {
    // Before, subscribe set the state and then called the broker, in two steps: an unsubscribe
    // between them found nothing to take back from the broker, which then kept a channel the
    // exchange had left. The broker here holds its subscribe until the unsubscribe has run, or is
    // waiting to run.
    java.util.concurrent.CountDownLatch inside = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    AGSimpleBroker memory = new AGSimpleBroker();
    BrokerEngine holding = (BrokerEngine) java.lang.reflect.Proxy.newProxyInstance(
        BrokerEngine.class.getClassLoader(), new Class<?>[] {BrokerEngine.class}, (proxy, method, args) -> {
          if (method.getName().equals("subscribeSocket")) {
            inside.countDown();
            awaitLatch(release);
          }
          return method.invoke(memory, args);
        });
    AGExchange racing = new AGExchange(holding);
    Thread subscriber = new Thread(() -> racing.subscribe("held"));
    subscriber.start();
    inside.await();
    Thread unsubscriber = new Thread(() -> racing.unsubscribe("held"));
    unsubscriber.start();
    org.awaitility.Awaitility.await().until(() -> !unsubscriber.isAlive()
        || unsubscriber.getState() == Thread.State.BLOCKED || unsubscriber.getState() == Thread.State.WAITING);
    release.countDown();
    subscriber.join();
    unsubscriber.join();
    assertFalse(racing.isSubscribed("held"));
    assertFalse(holding.isSubscribed("held"), "the broker still holds a channel the exchange left");
  }

  private static void awaitLatch(java.util.concurrent.CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
