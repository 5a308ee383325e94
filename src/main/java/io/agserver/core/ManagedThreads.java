package io.agserver.core;

import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.naming.InitialContext;
import javax.naming.NamingException;

/**
 * The container's managed threads (Jakarta Concurrency), where the runtime offers them: threads
 * that carry the application's context (class loader, naming, CDI). Payara always has them; Open
 * Liberty with its {@code concurrent-3.0} feature. Without them agserver starts plain daemon
 * threads whose context class loader is the application's.
 */
public final class ManagedThreads {

  private static final Logger LOG = Logger.getLogger(ManagedThreads.class.getName());

  private ManagedThreads() {}

  /** {@code java:comp/DefaultManagedThreadFactory}, when the runtime has it. */
  public static Optional<ThreadFactory> threadFactory() {
    return lookup("java:comp/DefaultManagedThreadFactory", ThreadFactory.class);
  }

  /** {@code java:comp/DefaultManagedExecutorService}, when the runtime has it. */
  public static Optional<ExecutorService> executor() {
    return lookup("java:comp/DefaultManagedExecutorService", ExecutorService.class);
  }

  private static <T> Optional<T> lookup(String name, Class<T> type) {
    try {
      Object found = new InitialContext().lookup(name);
      return type.isInstance(found) ? Optional.of(type.cast(found)) : Optional.empty();
    } catch (NamingException | RuntimeException | NoClassDefFoundError e) {
      LOG.log(Level.FINE, "No " + name + ": agserver uses threads of its own", e);
      return Optional.empty();
    }
  }

  /**
   * Daemon threads named {@code prefix-N} with the creating thread's context class loader (the
   * application's, when created at deployment), for runtimes without managed threads.
   */
  public static ThreadFactory daemonThreads(String prefix) {
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
      thread.setDaemon(true);
      thread.setContextClassLoader(loader);
      return thread;
    };
  }
}
