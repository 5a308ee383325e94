package io.agserver.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** Where the transport's threads come from: the container's managed factory, else plain daemons. */
class TransportThreadsTest {

  @Test
  void withoutAManagedThreadFactoryTheThreadsArePlainDaemons() throws Exception {
    // No JNDI here, as on Open Liberty without the concurrent feature.
    assertNull(TransportThreads.containerFactory());
    TransportThreads threads = new TransportThreads(null, 1, 5000);
    try {
      assertFalse(threads.managed);
      assertEquals(5000, threads.sendTimeoutMillis);
      assertTrue(run(threads.senders).isDaemon());
      Thread closer = run(threads.closer::execute);
      assertTrue(closer.isDaemon());
      assertTrue(closer.getName().startsWith("agserver-close-"), closer.getName());
    } finally {
      threads.shutdown();
    }
  }

  @Test
  void withAManagedThreadFactoryEveryThreadComesFromIt() throws Exception {
    List<Thread> made = new CopyOnWriteArrayList<>();
    ThreadFactory managed = runnable -> {
      Thread thread = new Thread(runnable);
      thread.setDaemon(true);
      made.add(thread);
      return thread;
    };
    TransportThreads threads = new TransportThreads(managed, 1, 5000);
    try {
      assertTrue(threads.managed);
      Thread sender = run(threads.senders);
      Thread closer = run(threads.closer::execute);
      assertTrue(made.contains(sender), "sender " + sender);
      assertTrue(made.contains(closer), "closer " + closer);
      assertTrue(made.stream().anyMatch(t -> t.getName().equals("agserver-send-watchdog")), made.toString());
    } finally {
      threads.shutdown();
    }
  }

  @Test
  void afterShutdownClosesAreDroppedNotThrown() {
    TransportThreads threads = new TransportThreads(null, 1, 5000);
    threads.shutdown();
    threads.closer.execute(() -> { }); // the application's sockets close after its listener ends
    assertTrue(threads.closer.isShutdown());
  }

  /** The thread that ran a task on {@code executor}. */
  private static Thread run(java.util.concurrent.Executor executor) throws Exception {
    CompletableFuture<Thread> thread = new CompletableFuture<>();
    executor.execute(() -> thread.complete(Thread.currentThread()));
    return thread.get(5, TimeUnit.SECONDS);
  }
}
