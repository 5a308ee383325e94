package io.agserver.transport;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The threads that write frames with the session's blocking remote.
 *
 * <p>On Open Liberty, while writes get stuck, a sender does not write a send whose connection
 * cannot take data (its send buffer full: a client that stopped reading): the send waits on the
 * {@link WindowWatch}, holding no thread, and comes back once it can. The watchdog's estimate
 * below, the threads kept for sends likely to get stuck, is then not applied
 * ({@link #windowsWatchedBy}). What follows is for the writes that still block: the ones under
 * way when the windows fill, a frame larger than the room left, Payara, a JDK that does not
 * open its poll to agserver.
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
 * that does not read). Meanwhile the others must not wait for it: the watchdog looks every
 * {@link #STALL_MS}; a write in progress for half that time or more is stuck. While sends
 * are queued, it keeps threads that are not stuck: at least {@code core}, twice as many as got
 * stuck since its previous look, and {@code core} more than the sends waiting that are likely to
 * get stuck too (the share of the sends taken since its previous look that got stuck, applied to
 * the sends waiting), so that clients that stop reading together (a fan-out fills all their
 * windows at once) get their threads within a look or two; with no write finished since its
 * previous look, it adds one at least. At most {@link #MAX_THREADS}. The watchdog starts them
 * itself, one after the other: started by the threads before them, side by side, a thousand new
 * threads were runnable at once on the server's one core, and every other socket's sender waited
 * its turn behind them (measured: README, Slow consumers, run 40; four at a time did no better,
 * run 43). The same
 * watchdog holds each write in progress to its transport's deadlines ({@link Watched}), so a
 * stuck write is abandoned after the send time limit without a timer task per write, at most
 * {@link #ENDS_PER_PASS} per look. Every thread ends after {@link #IDLE_SECONDS} without work, so
 * an undeployed application leaves none behind for long.
 *
 * <p>Threads come from the given {@link ThreadFactory}: the container's managed thread factory
 * where it offers one (they are long-lived and block on the network, which is what a thread
 * factory is for, not a managed executor whose pool may be the container's request threads).
 */
final class Senders implements Executor {

  private static final Logger LOG = Logger.getLogger(Senders.class.getName());

  static final long STALL_MS = 50;
  /**
   * A write in progress this long is held by a client that does not read (a write to one that
   * reads takes microseconds). Half a period, so that a thread started at one look and caught by
   * such a client right away counts at the next.
   */
  private static final long STUCK_NANOS = TimeUnit.MILLISECONDS.toNanos(STALL_MS) / 2;
  static final int MAX_THREADS = 1024;
  /** How long after the last stuck write was seen sends still ask whether their window has room. */
  static final long STUCK_LATELY_NANOS = TimeUnit.SECONDS.toNanos(5);
  static final long IDLE_SECONDS = 30;
  /**
   * Frames a sender writes inline in a row (one socket's queue, frame after frame) before the
   * next goes through the queue, behind the other sockets waiting.
   */
  static final int INLINE_WRITES = 32;

  /**
   * Writes past their deadline ended per look at most. Clients that stopped reading together
   * reach the send time limit together; ending a thousand writes at once wakes a thousand
   * threads into their failure paths and closes, a burst the other sockets' sends wait behind.
   * At 20 per look, 400 a second: the thousandth ends 2.5 s after its limit.
   */
  static final int ENDS_PER_PASS = 20;

  /** A write in progress that the watchdog looks at every {@link #STALL_MS}. */
  interface Watched {
    /**
     * Ends the write if it is past a deadline; must not block, and never runs application code.
     *
     * @return whether it ended the write
     */
    boolean check(long nowNanos);
  }

  /** The sender of the current thread, if it is one: ThreadFactory threads are not ours to subclass. */
  private static final ThreadLocal<Sender> CURRENT = new ThreadLocal<>();

  private final int core;
  private final ThreadFactory threadFactory;
  private final LinkedBlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
  private final Set<Sender> live = ConcurrentHashMap.newKeySet();
  private final AtomicInteger threads = new AtomicInteger();
  private final AtomicInteger idle = new AtomicInteger();
  private final AtomicInteger names = new AtomicInteger();
  /** Tasks finished so far: the watchdog's measure of progress. */
  private final AtomicLong finished = new AtomicLong();
  private final AtomicBoolean factoryFailureLogged = new AtomicBoolean();
  private final AtomicBoolean startFailureLogged = new AtomicBoolean();
  private final Object watchdogLock = new Object();
  private volatile Thread watchdog;
  /**
   * When a write last finished, as the watchdog sees it (it looks every STALL_MS), or when a
   * watchdog started: the liveness check's measure of progress. Written by the watchdog and under
   * watchdogLock only.
   */
  private volatile long progressAtNanos = System.nanoTime();
  /**
   * Sends wait for full windows on a {@link WindowWatch} while writes get stuck: the watchdog
   * then keeps no threads for the sends likely to get stuck, they will not hold one.
   */
  private volatile BooleanSupplier windowsWatched;
  /** When the watchdog last saw a write stuck (System.nanoTime); 0: never. */
  private volatile long stuckSeenNanos;
  /** Watchdog passes so far: how many periods something took, for tests. */
  private final AtomicLong passes = new AtomicLong();
  /**
   * Watchdog passes that asked for more than {@code core} threads (beyond topping up the threads
   * kept free): how many rounds a wave took to get its threads, for tests.
   */
  private final AtomicLong growthPasses = new AtomicLong();

  /**
   * @param core threads kept while there is work (socketcluster.senderThreads)
   * @param threadFactory where threads come from
   */
  Senders(int core, ThreadFactory threadFactory) {
    this.core = core;
    this.threadFactory = threadFactory;
  }

  /** Whether the caller may write inline: it is a sender that has not written too many in a row. */
  static boolean mayWriteInline() {
    Sender sender = CURRENT.get();
    return sender != null && sender.inlineWrites++ < INLINE_WRITES;
  }

  /**
   * The calling sender starts {@code write}: the watchdog checks it until {@link #endWrite}.
   * A no-op off sender threads (tests that write directly).
   */
  static void beginWrite(Watched write) {
    Sender sender = CURRENT.get();
    if (sender != null) {
      sender.writingSince = System.nanoTime();
      sender.writing = write;
    }
  }

  static void endWrite() {
    Sender sender = CURRENT.get();
    if (sender != null) {
      sender.writing = null;
    }
  }

  @Override
  public void execute(Runnable task) {
    tasks.offer(task);
    if (idle.get() == 0 && threads.get() < core) {
      startThread();
    }
    ensureWatchdog();
  }

  /** Transports park sends that find a full window on a {@link WindowWatch} while it is healthy. */
  void windowsWatchedBy(BooleanSupplier healthy) {
    if (windowsWatched == null) {
      windowsWatched = healthy;
    }
  }

  /**
   * Whether the watchdog saw a write stuck within the last {@link #STUCK_LATELY_NANOS}: clients
   * that stop reading, whose next sends should not be written blind.
   */
  boolean writesStuckLately() {
    long seen = stuckSeenNanos;
    return seen != 0 && System.nanoTime() - seen < STUCK_LATELY_NANOS;
  }

  private boolean windowsWatched() {
    BooleanSupplier healthy = windowsWatched;
    return healthy != null && healthy.getAsBoolean();
  }

  int threadCount() {
    return threads.get();
  }

  long watchdogPasses() {
    return passes.get();
  }

  long growthPasses() {
    return growthPasses.get();
  }

  /**
   * What the senders are doing, for the liveness check: sends waiting with no write finished for
   * long means every sender is stuck in a write it cannot end and no thread can be added.
   */
  io.agserver.core.SenderStatus status() {
    long since = progressAtNanos;
    int queued = tasks.size();
    long stalled = queued == 0 ? 0 : Math.max(0, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since));
    return new io.agserver.core.SenderStatus(threads.get(), writesInProgress(), queued, stalled);
  }

  /** Sender threads in a write right now. */
  int writesInProgress() {
    int count = 0;
    for (Sender sender : live) {
      if (sender.writing != null) {
        count++;
      }
    }
    return count;
  }

  /** Whether a thread was started: false at {@link #MAX_THREADS} or when the factory refuses. */
  private boolean startThread() {
    int count = threads.incrementAndGet();
    if (count > MAX_THREADS) {
      threads.decrementAndGet();
      return false;
    }
    Sender sender = new Sender();
    Thread thread = newThread(sender, "agserver-send-" + names.incrementAndGet());
    if (thread == null) {
      threads.decrementAndGet();
      return false;
    }
    try {
      thread.start();
    } catch (OutOfMemoryError e) {
      // "unable to create native thread": the process's or the container's thread limit. The
      // threads there are go on; a thread lost here would leave the count wrong for good.
      threads.decrementAndGet();
      if (startFailureLogged.compareAndSet(false, true)) {
        LOG.log(Level.WARNING, "A sender thread could not be started; writes wait for the ones there are", e);
      }
      return false;
    }
    return true;
  }

  /** A thread from the factory, or null when it refuses (a managed factory once the application stops). */
  private Thread newThread(Runnable runnable, String name) {
    Thread thread;
    try {
      thread = threadFactory.newThread(runnable);
    } catch (RuntimeException e) {
      if (factoryFailureLogged.compareAndSet(false, true)) {
        LOG.log(Level.WARNING, "The thread factory refused a sender thread; writes wait", e);
      }
      return null;
    }
    if (thread != null) {
      thread.setName(name);
    }
    return thread;
  }

  private void ensureWatchdog() {
    if (watchdog != null) {
      return; // the common case: no lock per write
    }
    synchronized (watchdogLock) {
      if (watchdog == null) {
        // Sends waited for no watchdog until now, not for writes that did not finish.
        progressAtNanos = System.nanoTime();
        Thread thread = newThread(this::watch, "agserver-send-watchdog");
        if (thread != null) {
          watchdog = thread;
          thread.start();
        }
      }
    }
  }

  /**
   * Adds a thread whenever queued sends wait and none finished for STALL_MS, and checks each
   * write in progress against its deadlines.
   */
  private void watch() {
    long lastFinished = finished.get();
    long lastTaken = lastFinished;
    long lastLook = System.nanoTime();
    while (true) {
      try {
        Thread.sleep(STALL_MS);
      } catch (InterruptedException e) {
        synchronized (watchdogLock) {
          watchdog = null;
        }
        return;
      }
      long finishedNow = finished.get();
      long look = System.nanoTime();
      int stuck = 0;
      int newlyStuck = 0; // crossed the mark since the previous look: writes ended meanwhile do not hide them
      long takenNow = finishedNow; // every task taken has finished or is running
      for (Sender sender : live) {
        if (sender.busy) {
          takenNow++;
        }
        if (sender.writing != null) {
          long since = sender.writingSince;
          if (look - since >= STUCK_NANOS) {
            stuck++;
            if (lastLook - since < STUCK_NANOS) {
              newlyStuck++;
            }
          }
        }
      }
      if (stuck > 0) {
        stuckSeenNanos = look; // before any thread starts below: they ask before they write
      }
      boolean progress = finishedNow != lastFinished || tasks.isEmpty();
      if (progress) {
        progressAtNanos = System.nanoTime();
      }
      int queued = tasks.size();
      if (queued > 0 && idle.get() == 0) {
        // Threads not stuck: at least core; twice as many as got stuck since the previous look;
        // and core more than the sends waiting that will likely get stuck as well, estimated by
        // the share of the sends taken in the period that got stuck. Clients that stop reading
        // together (a fan-out fills their windows at once) queue a send each, ahead of every
        // other socket's next one: once a period's sends all got stuck, the rest get their
        // threads at the next look instead of the pool doubling look after look while the
        // others wait. The share is trusted from 2 * core sends taken on: a few slow clients at
        // the head of a fan-out, or a pause of the JVM, would otherwise look like a thousand
        // (the doubling handles those). With no write finished for a whole period, one more
        // at least (a write stuck before it was seen to be).
        long takenInPeriod = takenNow - lastTaken;
        long likelyStuck = 0;
        if (newlyStuck > 0 && takenInPeriod >= 2L * core && !windowsWatched()) {
          long share = Math.min(newlyStuck, takenInPeriod); // some were taken in the period before
          likelyStuck = (queued * share + takenInPeriod - 1) / takenInPeriod;
        }
        long wanted = Math.max(2L * newlyStuck, core + likelyStuck);
        long start = wanted - (threads.get() - stuck);
        if (!progress) {
          start = Math.max(start, 1);
        }
        start = Math.min(start, queued); // never more threads than sends waiting
        int started = 0;
        while (started < start && startThread()) {
          started++; // stops at the limit, or when the factory refuses: it would refuse the rest too
        }
        if (started > core) {
          growthPasses.incrementAndGet();
        }
      }
      lastFinished = finishedNow;
      lastTaken = takenNow;
      lastLook = look;
      passes.incrementAndGet();
      checkWrites();
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

  private void checkWrites() {
    long nowNanos = System.nanoTime();
    List<InProgress> writes = new ArrayList<>();
    for (Sender sender : live) {
      Watched write = sender.writing;
      if (write != null) {
        writes.add(new InProgress(write, sender.writingSince));
      }
    }
    if (writes.size() > ENDS_PER_PASS) {
      // The longest in progress first: with more overdue than a look ends, none waits for ever
      // behind others that keep going overdue (the set's own order is the same at every look).
      writes.sort(Comparator.comparingLong(InProgress::sinceNanos));
    }
    int ended = 0;
    for (InProgress write : writes) {
      if (ended == ENDS_PER_PASS) {
        return; // the others at the next look
      }
      try {
        if (write.write().check(nowNanos)) {
          ended++;
        }
      } catch (RuntimeException e) {
        LOG.log(Level.FINE, "A write's deadline check failed", e);
      }
    }
  }

  /** A write in progress as one look saw it: its sender may have moved on since. */
  private record InProgress(Watched write, long sinceNanos) {}

  private final class Sender implements Runnable {

    int inlineWrites;
    /**
     * Running a task: with the tasks finished, what the watchdog counts the tasks taken by (a
     * field of each sender's own, not one more counter every send would write).
     */
    volatile boolean busy;
    volatile Watched writing;
    /** When the write in progress began (System.nanoTime); the sender's own, read by the watchdog. */
    volatile long writingSince;

    @Override
    public void run() {
      CURRENT.set(this);
      live.add(this);
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
          busy = true;
          try {
            task.run();
          } catch (RuntimeException e) {
            // A send reports its own failure to its socket; nothing else may end this thread.
          } finally {
            writing = null;
          }
          finished.incrementAndGet();
          busy = false;
        }
      } catch (InterruptedException e) {
        // Ends the thread (a managed thread is interrupted when its application stops).
      } finally {
        live.remove(this);
        CURRENT.remove();
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
