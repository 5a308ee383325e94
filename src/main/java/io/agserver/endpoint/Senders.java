package io.agserver.endpoint;

import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The threads that write frames with the session's blocking remote.
 *
 * <p>Why not the container's asynchronous remote: on Open Liberty an asynchronous send is queued
 * to the TCP channel's work queue, and a client's close frame is handled on a worker of that same
 * queue, which waits for the send in flight before it answers. When many clients close at once
 * while sends are queued (pings to every socket, a fan-out), the workers all wait for sends that
 * sit behind them in the queue: the server stops answering anyone, and the container's executor
 * grows by thousands of threads without recovering. A blocking write on a thread of ours needs no
 * container worker to finish, so a close never waits for something it holds up.
 *
 * <p>A blocking write stalls its thread only while the client's TCP window is full (a client
 * that does not read). Such a socket is closed by its ping timeout or its outbound buffer limit,
 * which ends the write. Meanwhile the others must not wait for it: when queued sends make no
 * progress for {@link #STALL_MS}, another thread is started, up to {@link #MAX_THREADS}. Every
 * thread ends after {@link #IDLE_SECONDS} without work, so an undeployed application leaves none
 * behind for long.
 */
final class Senders implements Executor {

  static final long STALL_MS = 50;
  static final int MAX_THREADS = 1024;
  static final long IDLE_SECONDS = 30;
  /**
   * Frames a sender writes inline in a row (one socket's queue, frame after frame) before the
   * next goes through the queue, behind the other sockets waiting.
   */
  static final int INLINE_WRITES = 32;

  private final int core;
  private final LinkedBlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
  private final AtomicInteger threads = new AtomicInteger();
  private final AtomicInteger idle = new AtomicInteger();
  private final AtomicInteger names = new AtomicInteger();
  /** Tasks finished so far: the watchdog's measure of progress. */
  private final AtomicLong finished = new AtomicLong();
  private final Object watchdogLock = new Object();
  private volatile Thread watchdog;

  /** @param core threads kept while there is work (socketcluster.senderThreads) */
  Senders(int core) {
    this.core = core;
  }

  /** Whether the caller may write inline: it is a sender that has not written too many in a row. */
  static boolean mayWriteInline() {
    return Thread.currentThread() instanceof Sender sender && sender.inlineWrites++ < INLINE_WRITES;
  }

  @Override
  public void execute(Runnable task) {
    tasks.offer(task);
    if (idle.get() == 0 && threads.get() < core) {
      startThread();
    }
    ensureWatchdog();
  }

  int threadCount() {
    return threads.get();
  }

  private void startThread() {
    int count = threads.incrementAndGet();
    if (count > MAX_THREADS) {
      threads.decrementAndGet();
      return;
    }
    Sender sender = new Sender("agserver-send-" + names.incrementAndGet());
    sender.start();
  }

  private void ensureWatchdog() {
    if (watchdog != null) {
      return; // the common case: no lock per write
    }
    synchronized (watchdogLock) {
      if (watchdog == null) {
        watchdog = new Thread(this::watch, "agserver-send-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
      }
    }
  }

  /** Adds a thread whenever queued sends wait and none finished for STALL_MS. */
  private void watch() {
    long lastFinished = finished.get();
    while (true) {
      try {
        Thread.sleep(STALL_MS);
      } catch (InterruptedException e) {
        return;
      }
      long now = finished.get();
      if (!tasks.isEmpty() && idle.get() == 0 && now == lastFinished) {
        startThread();
      }
      lastFinished = now;
      boolean done;
      synchronized (watchdogLock) {
        done = threads.get() == 0 && tasks.isEmpty();
        if (done) {
          watchdog = null;
        }
      }
      if (done) {
        if (!tasks.isEmpty()) {
          ensureWatchdog(); // a send queued meanwhile saw this watchdog still running
        }
        return;
      }
    }
  }

  private final class Sender extends Thread {

    int inlineWrites;

    Sender(String name) {
      super(name);
      setDaemon(true);
    }

    @Override
    public void run() {
      boolean retired = false;
      try {
        while (true) {
          idle.incrementAndGet();
          Runnable task;
          try {
            task = tasks.poll(IDLE_SECONDS, TimeUnit.SECONDS);
          } finally {
            idle.decrementAndGet();
          }
          if (task == null) {
            if (retire()) {
              retired = true;
              return;
            }
            continue;
          }
          inlineWrites = 0;
          try {
            task.run();
          } catch (RuntimeException e) {
            // A send reports its own failure to its socket; nothing else may end this thread.
          }
          finished.incrementAndGet();
        }
      } catch (InterruptedException e) {
        // Ends the thread.
      } finally {
        if (!retired) {
          threads.decrementAndGet();
        }
      }
    }

    /** An idle thread ends unless work arrived meanwhile and it is the last one. */
    private boolean retire() {
      int count = threads.decrementAndGet();
      if (count == 0 && !tasks.isEmpty()) {
        threads.incrementAndGet();
        return false;
      }
      return true;
    }
  }
}
