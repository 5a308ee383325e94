package io.agserver.stream;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.Flow;

/** Bridges one Flow subscriber: {@code request(n)} is demand for the drain loop, {@code cancel()} a silent kill. */
final class PublisherConsumer<T> extends BaseConsumer<T> implements Flow.Subscription {

  private static final int RUNNING = 0;
  private static final int CANCELLED = 1;
  private static final int BAD_REQUEST = 2;

  private static final VarHandle REQUESTED;
  private static final VarHandle END;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      REQUESTED = l.findVarHandle(PublisherConsumer.class, "requested", long.class);
      END = l.findVarHandle(PublisherConsumer.class, "end", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final Flow.Subscriber<? super T> subscriber;
  @SuppressWarnings("unused") // via REQUESTED
  private volatile long requested;
  @SuppressWarnings("unused") // via END
  private volatile int end;
  private volatile long badRequest;

  PublisherConsumer(Flow.Subscriber<? super T> subscriber) {
    this.subscriber = subscriber;
  }

  @Override
  public void request(long n) {
    if (n <= 0) {
      badRequest = n;
      END.compareAndSet(this, RUNNING, BAD_REQUEST);
      kill();
      return;
    }
    long r;
    long next;
    do {
      r = (long) REQUESTED.getVolatile(this);
      next = r + n;
      if (next < 0) {
        next = Long.MAX_VALUE; // Long.MAX_VALUE means unbounded (rule 3.17)
      }
    } while (!REQUESTED.compareAndSet(this, r, next));
    signal();
  }

  @Override
  public void cancel() {
    END.compareAndSet(this, RUNNING, CANCELLED);
    kill();
  }

  @Override
  boolean hasDemand(boolean close) {
    // Completion needs no demand (rule 1.4).
    return close || (long) REQUESTED.getVolatile(this) > 0;
  }

  @Override
  void deliver(Object value) {
    if ((long) REQUESTED.getVolatile(this) != Long.MAX_VALUE) {
      REQUESTED.getAndAdd(this, -1L);
    }
    try {
      subscriber.onNext(unmask(value));
    } catch (Throwable t) {
      // Rule 2.13: a throwing subscriber is treated as having cancelled.
      report(t);
      cancel();
    }
  }

  @Override
  void onClosedOwned() {
    signal(() -> subscriber.onComplete());
  }

  @Override
  void onKilledOwned() {
    switch ((int) END.getVolatile(this)) {
      case RUNNING -> signal(() -> subscriber.onComplete());
      case BAD_REQUEST -> signal(() -> subscriber.onError(
          new IllegalArgumentException("non-positive request: " + badRequest + " (rule 3.9)")));
      default -> {
        // Cancelled by the subscriber: no further signal (rule 3.7).
      }
    }
  }

  private void signal(Runnable r) {
    try {
      r.run();
    } catch (Throwable t) {
      report(t);
    }
  }
}
