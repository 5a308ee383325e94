package io.agserver.stream;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The lock-free delivery machinery shared by every kind of consumer.
 *
 * <p>A consumer reads its stream's {@link WriteLog} through a private cursor. Writers append to the log and then
 * {@link #signal()} the consumer: a wip counter whose 0-to-1 transition elects the thread that drains. The drainer
 * hands items over one at a time, and before giving up re-checks for signals that arrived meanwhile. So handler calls
 * never overlap and follow log order, an idle consumer runs its handler inline on the writer, a busy one is fed by
 * the thread already draining, and a write from inside a handler only bumps the counter (no recursion).
 *
 * <p>The drain also stops, without losing anything, while an async handler's stage is pending or a pull/Flow consumer
 * has no demand; stage completion and new demand simply signal again. Once the consumer has ended, the last drainer
 * never releases the counter, so nothing is delivered again.
 */
abstract class BaseConsumer<T> implements AGConsumer<T> {

  private static final AtomicLong IDS = new AtomicLong();

  /** Stands in for a null value, so that a log node's value is never ambiguous. */
  static final Object NULL = new Object();
  /** The close marker: the consumer ends when it reaches it. */
  static final Object CLOSE = new Object();

  private static final int ACTIVE = 0;
  private static final int CLOSED = 1;
  private static final int KILLED = 2;

  private static final VarHandle WIP;
  private static final VarHandle STATE;
  private static final VarHandle CURSOR;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      WIP = l.findVarHandle(BaseConsumer.class, "wip", int.class);
      STATE = l.findVarHandle(BaseConsumer.class, "state", int.class);
      CURSOR = l.findVarHandle(BaseConsumer.class, "cursor", WriteLog.Node.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final long id = IDS.incrementAndGet();
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private volatile ConsumerSet<T> set;

  @SuppressWarnings("unused") // via WIP
  private volatile int wip;
  @SuppressWarnings("unused") // via STATE
  private volatile int state;
  /** The last node taken (handed over or skipped). Moved only by the drainer; null once ended. */
  @SuppressWarnings("unused") // via CURSOR
  private volatile WriteLog.Node cursor;
  /** An async handler's stage is pending: deliver nothing until it completes. */
  private volatile boolean paused;

  static Object mask(Object value) {
    return value == null ? NULL : value;
  }

  @SuppressWarnings("unchecked")
  static <T> T unmask(Object item) {
    return item == NULL ? null : (T) item;
  }

  // ---- hooks -------------------------------------------------------------------------------------------------

  /** Hands one value over. Runs under drain ownership, after the cursor moved past it. */
  abstract void deliver(Object value);

  /** Whether the next item may be handed over now; {@code close} tells it is the close marker. */
  boolean hasDemand(boolean close) {
    return true;
  }

  /** The close marker was reached; under drain ownership, after the consumer was removed. */
  void onClosedOwned() {
  }

  /** The consumer was killed; once, under drain ownership, after the consumer was removed. */
  void onKilledOwned() {
  }

  /** The consumer ended (closed or killed); once, on whichever thread ended it. */
  void onEnded() {
  }

  // ---- registration and signalling ---------------------------------------------------------------------------

  /** Binds the consumer to a set, reading from the set's current end. Before it is added to the set. */
  final void attachTo(ConsumerSet<T> s) {
    set = s;
    CURSOR.setRelease(this, s.log.last());
  }

  /**
   * Drops the cursor of a consumer that ended while it was being added, so it does not pin the log. Safe outside
   * drain ownership: an ended consumer's drain reads nothing more, and a drainer tolerates a null cursor.
   */
  final void detach() {
    CURSOR.setRelease(this, null);
  }

  /** Writers call this after appending: something may be new for this consumer. Any thread. */
  final void offer() {
    if ((int) STATE.getAcquire(this) == ACTIVE) {
      signal();
    }
  }

  /** Runs the drain here unless another thread is draining, in which case that thread picks this up. */
  final void signal() {
    if ((int) WIP.getAndAdd(this, 1) == 0) {
      drain();
    }
  }

  private void drain() {
    int missed = 1;
    for (;;) {
      for (;;) {
        if ((int) STATE.getVolatile(this) == KILLED) {
          CURSOR.setRelease(this, null);
          onKilledOwned();
          return; // keep wip > 0 forever
        }
        if (paused) {
          break;
        }
        WriteLog.Node current = (WriteLog.Node) CURSOR.getAcquire(this);
        if (current == null) {
          break; // not attached yet (a Flow subscriber requesting inside onSubscribe)
        }
        WriteLog.Node next = current.next;
        if (next == null) {
          break;
        }
        if (next.target != 0 && next.target != id) {
          CURSOR.setRelease(this, next);
          continue;
        }
        boolean close = next.value == CLOSE;
        if (!hasDemand(close)) {
          break;
        }
        CURSOR.setRelease(this, next);
        if (close) {
          closeOwned();
          return; // keep wip > 0 forever
        }
        deliver(next.value);
      }
      missed = (int) WIP.getAndAdd(this, -missed) - missed;
      if (missed == 0) {
        return;
      }
    }
  }

  private void closeOwned() {
    CURSOR.setRelease(this, null);
    if (STATE.compareAndSet(this, ACTIVE, CLOSED)) {
      ended();
      onClosedOwned();
    } else {
      // A kill won; its signal found us draining and left the kill handling to us.
      onKilledOwned();
    }
  }

  /**
   * Delivers nothing more until {@code stage} completes. A stage that is already complete costs no callback; one
   * that completes during registration just signals the loop that is still running, so a long run of such stages
   * never deepens the stack.
   */
  final void pauseUntil(CompletionStage<?> stage) {
    // Exact class only: subclasses such as minimalCompletionStage() throw from isDone().
    if (stage.getClass() == CompletableFuture.class) {
      CompletableFuture<?> future = (CompletableFuture<?>) stage;
      if (future.isDone()) {
        if (future.isCompletedExceptionally()) {
          future.whenComplete((v, e) -> report(io.agserver.core.Failures.unwrap(e)));
        }
        return;
      }
    }
    paused = true;
    stage.whenComplete((v, e) -> {
      if (e != null) {
        report(io.agserver.core.Failures.unwrap(e));
      }
      paused = false;
      signal();
    });
  }

  final void report(Throwable error) {
    ErrorHook.report(this, error);
  }


  // ---- ending ------------------------------------------------------------------------------------------------

  final boolean isActive() {
    return (int) STATE.getVolatile(this) == ACTIVE;
  }

  /** Writes a masked value, or the close marker, that only this consumer takes (after its backlog). */
  final void writeOnly(Object item) {
    ConsumerSet<T> s = set;
    if (s != null && isActive()) {
      s.writeTo(this, item);
    }
  }

  @Override
  public final void kill() {
    if (!STATE.compareAndSet(this, ACTIVE, KILLED)) {
      return;
    }
    ended();
    // Idle: we drain and see the kill. Draining elsewhere: our signal makes that loop look again.
    signal();
  }

  private void ended() {
    ConsumerSet<T> s = set;
    if (s != null) {
      s.remove(this);
    }
    try {
      onEnded();
    } finally {
      done.complete(null);
    }
  }

  // ---- AGConsumer ---------------------------------------------------------------------------------------------

  @Override
  public final long id() {
    return id;
  }

  @Override
  public final int backpressure() {
    WriteLog.Node c = (WriteLog.Node) CURSOR.getAcquire(this);
    ConsumerSet<T> s = set;
    if (c == null || s == null || !isActive()) {
      return 0;
    }
    return (int) Math.max(0, s.log.last().seq - c.seq);
  }

  @Override
  public CompletionStage<Next<T>> next() {
    throw new UnsupportedOperationException("next() is only available on pull consumers (createConsumer())");
  }

  @Override
  public final boolean isDone() {
    return !isActive();
  }

  @Override
  public final CompletionStage<Void> done() {
    // A read-only view: callers must not be able to complete it.
    return done.minimalCompletionStage();
  }

  @Override
  public final ConsumerStats stats() {
    ConsumerSet<T> s = set;
    return new ConsumerStats(id, backpressure(), s == null ? null : s.name);
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[id=" + id + ", backpressure=" + backpressure() + "]";
  }
}
