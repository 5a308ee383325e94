package io.agserver.stream;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** A consumer read with {@link #next()}: each pending call is one unit of demand for the drain loop. */
final class PullConsumer<T> extends BaseConsumer<T> {

  private static final VarHandle WAITER;

  static {
    try {
      WAITER = MethodHandles.lookup().findVarHandle(PullConsumer.class, "waiter", CompletableFuture.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @SuppressWarnings("unused") // via WAITER
  private volatile CompletableFuture<Next<T>> waiter;

  @Override
  public CompletionStage<Next<T>> next() {
    if (!isActive()) {
      return CompletableFuture.completedFuture(Next.end());
    }
    CompletableFuture<Next<T>> result = new CompletableFuture<>();
    if (!WAITER.compareAndSet(this, null, result)) {
      throw new IllegalStateException("next() called before the previous next() stage completed");
    }
    signal();
    // Ended while we registered: the ending side may have looked before our waiter was there.
    if (!isActive() && WAITER.compareAndSet(this, result, null)) {
      result.complete(Next.end());
    }
    return result;
  }

  @Override
  boolean hasDemand(boolean close) {
    // The close marker is taken by next() too: until then the consumer stays registered, as in JS.
    return WAITER.getVolatile(this) != null;
  }

  @Override
  void deliver(Object value) {
    CompletableFuture<Next<T>> w = takeWaiter();
    // Null only if a kill raced us and already answered the waiter; the value is dropped with the backlog.
    if (w != null) {
      w.complete(Next.of(unmask(value)));
    }
  }

  @Override
  void onClosedOwned() {
    finishWaiter();
  }

  @Override
  void onKilledOwned() {
    finishWaiter();
  }

  private void finishWaiter() {
    CompletableFuture<Next<T>> w = takeWaiter();
    if (w != null) {
      w.complete(Next.end());
    }
  }

  @SuppressWarnings("unchecked")
  private CompletableFuture<Next<T>> takeWaiter() {
    return (CompletableFuture<Next<T>>) WAITER.getAndSet(this, null);
  }
}
