package io.agserver.internal;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one timer thread of a server: a periodic sweep drives every socket's ping, pong-timeout,
 * handshake-timeout and ack-timeout checks (no task per socket), and rare one-shot jobs
 * (batch flushes) are scheduled here too. Uses the container's managed thread factory when there
 * is one, so that user code run from timers sees the application's context.
 */
public final class AGScheduler implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(AGScheduler.class.getName());

  private final ScheduledThreadPoolExecutor executor;

  public AGScheduler(ThreadFactory threadFactory) {
    executor = new ScheduledThreadPoolExecutor(1, threadFactory == null ? daemonFactory() : threadFactory);
    executor.setRemoveOnCancelPolicy(true);
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
  }

  /** Runs {@code task} every {@code periodMillis}; a failing run is logged, not fatal. */
  public ScheduledFuture<?> every(long periodMillis, Runnable task) {
    return executor.scheduleAtFixedRate(guard(task), periodMillis, periodMillis, TimeUnit.MILLISECONDS);
  }

  public ScheduledFuture<?> after(long delayMillis, Runnable task) {
    return executor.schedule(guard(task), delayMillis, TimeUnit.MILLISECONDS);
  }

  public ScheduledExecutorService executor() {
    return executor;
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }

  private static Runnable guard(Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException | Error e) {
        LOG.log(Level.WARNING, "agserver timer task failed", e);
      }
    };
  }

  private static ThreadFactory daemonFactory() {
    AtomicInteger count = new AtomicInteger();
    ThreadFactory base = Executors.defaultThreadFactory();
    return runnable -> {
      Thread thread = base.newThread(runnable);
      thread.setName("agserver-timer-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
