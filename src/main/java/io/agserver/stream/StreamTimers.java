package io.agserver.stream;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import io.agserver.core.ManagedThreads;

/**
 * The one timer thread of the package ({@code once()} timeouts), created on first use from the
 * container's managed thread factory when the runtime has one (the first use is on an
 * application thread, which can look it up), else as a daemon thread with the application's
 * class loader. A timeout fails its stage on this thread: dependants that may be slow belong on
 * an executor of their own ({@code ...Async}).
 */
final class StreamTimers {

  private StreamTimers() {
  }

  private static final class Holder {
    static final ScheduledThreadPoolExecutor EXECUTOR = create();

    private static ScheduledThreadPoolExecutor create() {
      ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1,
          ManagedThreads.threadFactory().orElseGet(() -> ManagedThreads.daemonThreads("agstream-timer")));
      // Most timeouts are cancelled because the value came first; drop them right away.
      e.setRemoveOnCancelPolicy(true);
      return e;
    }
  }

  static ScheduledFuture<?> schedule(Runnable task, long delayMillis) {
    return Holder.EXECUTOR.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
  }
}
