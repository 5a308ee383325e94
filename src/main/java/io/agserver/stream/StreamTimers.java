package io.agserver.stream;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** The one timer thread of the package (once() timeouts), created on first use. */
final class StreamTimers {

  private StreamTimers() {
  }

  private static final class Holder {
    static final ScheduledThreadPoolExecutor EXECUTOR = create();

    private static ScheduledThreadPoolExecutor create() {
      ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "agstream-timer");
        t.setDaemon(true);
        return t;
      });
      // Most timeouts are cancelled because the value came first; drop them right away.
      e.setRemoveOnCancelPolicy(true);
      return e;
    }
  }

  static ScheduledFuture<?> schedule(Runnable task, long delayMillis) {
    return Holder.EXECUTOR.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
  }
}
