package io.agserver.pubsub;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The server's exchange: stages not shared. */
class AGExchangeTest {

  private final AGSimpleBroker broker = new AGSimpleBroker();
  private final AGExchange exchange = new AGExchange(broker);

  @AfterEach
  void close() {
    broker.close();
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
}
