package io.agserver.transport;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.agserver.core.SenderStatus;

/**
 * The threads of one server's transport, all from one {@link ThreadFactory}: the {@link Senders}
 * (blocking writes and their watchdog, which also enforces the send time limit and the close
 * timeout) and the closer (session closes, which block their caller on Open Liberty). Nothing
 * here uses the common ForkJoin pool or starts a thread per socket.
 */
final class TransportThreads {

  private static final Logger LOG = Logger.getLogger(TransportThreads.class.getName());

  /** Jakarta Concurrency's default managed thread factory. */
  static final String MANAGED_THREAD_FACTORY = "java:comp/DefaultManagedThreadFactory";

  /** Closer threads at most; more closes wait in its queue. */
  static final int CLOSER_THREADS = 64;

  final Senders senders;
  /** Where sends wait for a full TCP window while writes get stuck (Open Liberty). */
  final WindowWatch windowWatch;
  final ThreadPoolExecutor closer;
  final long sendTimeoutMillis;
  /** Whether the threads are the container's managed ones. */
  final boolean managed;

  /**
   * @param factory the container's thread factory, or null for plain daemon threads
   * @param senderThreads socketcluster.senderThreads
   * @param sendTimeoutMillis socketcluster.sendTimeout
   */
  TransportThreads(ThreadFactory factory, int senderThreads, long sendTimeoutMillis) {
    this.managed = factory != null;
    ThreadFactory threads = factory != null ? factory : TransportThreads::daemon;
    this.senders = new Senders(senderThreads, threads);
    this.windowWatch = new WindowWatch(threads);
    this.sendTimeoutMillis = sendTimeoutMillis;
    AtomicInteger count = new AtomicInteger();
    // Started on demand and gone after 30 s idle: an idle server keeps no closer thread.
    this.closer = new ThreadPoolExecutor(CLOSER_THREADS, CLOSER_THREADS, 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), runnable -> {
          Thread thread;
          try {
            thread = threads.newThread(runnable);
          } catch (RuntimeException e) {
            // A managed factory refuses once the application stops: the close waits in the queue.
            return null;
          }
          if (thread != null) {
            thread.setName("agserver-close-" + count.incrementAndGet());
          }
          return thread;
        },
        // After shutdown (the application stops, and its sockets are closed after this) the
        // container closes the sessions itself: a close or a callback handed over then is dropped,
        // never thrown at the caller.
        new ThreadPoolExecutor.DiscardPolicy());
    closer.allowCoreThreadTimeOut(true);
  }

  /**
   * The container's managed thread factory (Jakarta Concurrency), looked up in the caller's
   * component context; null where the runtime has none (Open Liberty without the concurrent
   * feature, tests).
   */
  static ThreadFactory containerFactory() {
    try {
      Object factory = new javax.naming.InitialContext().lookup(MANAGED_THREAD_FACTORY);
      return factory instanceof ThreadFactory threads ? threads : null;
    } catch (javax.naming.NamingException | RuntimeException | LinkageError e) {
      LOG.log(Level.FINE, "No " + MANAGED_THREAD_FACTORY + "; the transport starts plain daemon threads", e);
      return null;
    }
  }

  static Thread daemon(Runnable runnable) {
    Thread thread = new Thread(runnable);
    thread.setDaemon(true);
    return thread;
  }

  /** The senders' state, with the sends waiting for a client's window, for the liveness check. */
  SenderStatus status() {
    SenderStatus s = senders.status();
    return new SenderStatus(s.threads(), s.writing(), s.queued(), s.stalledMillis(),
        windowWatch.waiting());
  }

  /**
   * The application stops: closes already asked for still go out, later ones are dropped; sender
   * threads end when idle (managed ones are also interrupted by the container).
   */
  void shutdown() {
    windowWatch.shutdown();
    closer.shutdown();
  }
}
