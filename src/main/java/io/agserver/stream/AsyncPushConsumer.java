package io.agserver.stream;

import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/** Runs an asynchronous handler for each item; the next item waits until the returned stage completes. */
final class AsyncPushConsumer<T> extends BaseConsumer<T> {

  private final Function<? super T, ? extends CompletionStage<?>> handler;

  AsyncPushConsumer(Function<? super T, ? extends CompletionStage<?>> handler) {
    this.handler = handler;
  }

  @Override
  void deliver(Object value) {
    CompletionStage<?> stage;
    try {
      stage = handler.apply(unmask(value));
    } catch (Throwable t) {
      report(t);
      return;
    }
    if (stage != null) {
      pauseUntil(stage);
    }
  }
}
