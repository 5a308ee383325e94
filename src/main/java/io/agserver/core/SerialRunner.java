package io.agserver.core;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Runs tasks one at a time in submission order, where each task may finish later
 * ({@link CompletionStage}): run now when idle, queue otherwise, start the next on completion. No
 * thread ever waits; a task that completes inline lets the next run in the same loop.
 */
public final class SerialRunner {

  private final ConcurrentLinkedQueue<Supplier<? extends CompletionStage<?>>> tasks =
      new ConcurrentLinkedQueue<>();
  private final AtomicInteger wip = new AtomicInteger();
  private final java.util.function.Consumer<Throwable> onTaskFailure;
  private final Runnable onIdle;

  public SerialRunner(java.util.function.Consumer<Throwable> onTaskFailure) {
    this(onTaskFailure, null);
  }

  /**
   * @param onIdle run by the thread that finished the last task whenever nothing is left to run
   *     (a socket's drain waits for that); null for none. It must be cheap: it runs after most
   *     tasks.
   */
  public SerialRunner(java.util.function.Consumer<Throwable> onTaskFailure, Runnable onIdle) {
    this.onTaskFailure = onTaskFailure;
    this.onIdle = onIdle;
  }

  /** Tasks submitted and not finished, the running one included. */
  public int pending() {
    return wip.get();
  }

  public void submit(Supplier<? extends CompletionStage<?>> task) {
    // Idle (nothing queued, nothing running): run it here without a queue node. Most messages
    // find their socket idle, so this is the common path.
    if (wip.compareAndSet(0, 1)) {
      if (runOne(task) && release()) {
        runLoop();
      }
      return;
    }
    tasks.offer(task);
    if (wip.getAndIncrement() == 0) {
      runLoop();
    }
  }

  private void runLoop() {
    do {
      if (!runOne(tasks.poll())) {
        return;
      }
    } while (release());
  }

  /** One task finished: true if another waits, else the runner is idle. */
  private boolean release() {
    if (wip.decrementAndGet() != 0) {
      return true;
    }
    if (onIdle != null) {
      onIdle.run();
    }
    return false;
  }

  /**
   * Runs one task; true if it finished here. A task still pending goes on when it completes:
   * its completion releases it and runs what queued meanwhile.
   */
  private boolean runOne(Supplier<? extends CompletionStage<?>> task) {
    CompletionStage<?> stage;
    try {
      stage = task.get();
    } catch (RuntimeException | Error e) {
      onTaskFailure.accept(e);
      return true;
    }
    if (stage == null) {
      return true;
    }
    java.util.concurrent.CompletableFuture<?> future = stage.toCompletableFuture();
    if (!future.isDone()) {
      future.whenComplete((result, error) -> {
        if (error != null) {
          onTaskFailure.accept(error);
        }
        if (release()) {
          runLoop();
        }
      });
      return false;
    }
    if (future.isCompletedExceptionally()) {
      future.whenComplete((result, error) -> onTaskFailure.accept(error));
    }
    return true;
  }
}
