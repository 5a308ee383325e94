package io.agserver.core;

import java.time.InstantSource;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A server's timers and background work.
 *
 * <ul>
 * <li>One timer thread runs the periodic sweep (every socket's ping, pong-timeout,
 *     handshake-timeout and ack-timeout checks: no task per socket) and fires one-shot and
 *     periodic jobs. It never runs their work itself: a job is handed to the workers.
 * <li>The workers run what the timer found due: closing a socket that timed out (its
 *     disconnection events and observers), failing invokes past their ack timeout, batch flushes,
 *     the active auth-expiry check. The container's managed executor when there is one, so that
 *     observers see the application's context; else a small pool of our own.
 * </ul>
 *
 * <p>What the workers receive is bounded by construction: at most one close, one expiry and one
 * batch flush per socket are queued at a time (the socket's flags), so their queue needs no
 * limit of its own.
 */
public final class AGScheduler implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(AGScheduler.class.getName());

  private final ScheduledThreadPoolExecutor timer;
  private final Executor workers;
  private final ExecutorService ownWorkers;
  private final InstantSource clock;

  /**
   * @param threads the factory of the timer thread (and of the workers when {@code workers} is
   *     null); null for daemon threads of our own
   * @param workers where due work runs; null for a pool of our own
   * @param clock what "now" is for every timer decision
   */
  public AGScheduler(ThreadFactory threads, Executor workers, InstantSource clock) {
    ThreadFactory timerThreads = threads == null ? ManagedThreads.daemonThreads("agserver-timer") : threads;
    timer = new ScheduledThreadPoolExecutor(1, timerThreads);
    timer.setRemoveOnCancelPolicy(true);
    timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    if (workers == null) {
      int size = Math.max(2, Runtime.getRuntime().availableProcessors());
      ThreadPoolExecutor pool = new ThreadPoolExecutor(size, size, 30, TimeUnit.SECONDS,
          new LinkedBlockingQueue<>(), threads == null ? ManagedThreads.daemonThreads("agserver-worker") : threads);
      pool.allowCoreThreadTimeOut(true);
      this.ownWorkers = pool;
      this.workers = pool;
    } else {
      this.ownWorkers = null;
      this.workers = workers;
    }
    this.clock = clock == null ? InstantSource.system() : clock;
  }

  public AGScheduler(ThreadFactory threads) {
    this(threads, null, null);
  }

  /** Milliseconds since the epoch, by the server's clock. */
  public long now() {
    return clock.millis();
  }

  /** Runs {@code sweep} on the timer thread every {@code periodMillis}: it must only check and hand off. */
  public ScheduledFuture<?> sweepEvery(long periodMillis, Runnable sweep) {
    return timer.scheduleAtFixedRate(guard(sweep), periodMillis, periodMillis, TimeUnit.MILLISECONDS);
  }

  /** Hands {@code job} to the workers every {@code periodMillis}. */
  public ScheduledFuture<?> every(long periodMillis, Runnable job) {
    Runnable guarded = guard(job);
    return timer.scheduleAtFixedRate(() -> execute(guarded), periodMillis, periodMillis, TimeUnit.MILLISECONDS);
  }

  /** Hands {@code job} to the workers after {@code delayMillis}. */
  public ScheduledFuture<?> after(long delayMillis, Runnable job) {
    Runnable guarded = guard(job);
    return timer.schedule(() -> execute(guarded), delayMillis, TimeUnit.MILLISECONDS);
  }

  /** Runs {@code job} on a worker; dropped (and logged) once the server is closed. */
  public void execute(Runnable job) {
    try {
      workers.execute(guard(job));
    } catch (RejectedExecutionException e) {
      LOG.log(Level.FINE, "agserver job dropped: the server is closing", e);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    if (ownWorkers != null) {
      ownWorkers.shutdown();
    }
  }

  private static Runnable guard(Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException | Error e) {
        LOG.log(Level.WARNING, "agserver background job failed", e);
      }
    };
  }
}
