package io.agserver.stream;

import java.util.function.Consumer;

/** Runs a synchronous handler for each item; the next item waits until the handler returns. */
final class PushConsumer<T> extends BaseConsumer<T> {

  private final Consumer<? super T> handler;

  PushConsumer(Consumer<? super T> handler) {
    this.handler = handler;
  }

  @Override
  void deliver(Object value) {
    try {
      handler.accept(unmask(value));
    } catch (Throwable t) {
      report(t);
    }
  }
}
