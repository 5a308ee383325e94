package io.agserver.transport;

import java.io.IOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Sends that wait for their client's TCP window on a selector instead of a sender thread.
 *
 * <p>Why: a blocking write holds its thread while the client's window is full. Clients that stop
 * reading together (a fan-out fills all their windows at the same moment) would each hold one,
 * and every other socket's next send would wait behind the thousand thread starts that takes
 * (README, Reliability, Slow consumers). While writes are getting stuck, a send first waits here
 * until its connection can take data, so only sends to connections that can take them occupy a
 * sender, and a client that stopped reading holds a selection key, not a thread.
 *
 * <p>The selector, its keys and the sends parked on them belong to the watch's one thread. Other
 * threads only offer a send to {@link #park} (a lock-free queue) and wake the selector. A parked
 * send leaves in one of three ways, each on the watch thread: its connection can take data (it
 * is resumed on the senders), its connection is gone (resumed too: its write fails at once and
 * goes through the socket's failure path), or it is past a deadline ({@link Parked#overdue}:
 * the send time limit, a close waiting too long), at most {@link Senders#ENDS_PER_PASS} a pass.
 *
 * <p>Connections are registered with this selector besides the container's own (a channel may
 * be registered with several); a key stays registered, without interest, after its send left, so
 * that the connection's next wait costs no registration. Closing a channel registered with a
 * selector defers the release of its file descriptor to the selector's next pass, so the watch
 * passes every {@link Senders#STALL_MS} while it has keys, and drops them all after
 * {@link Senders#IDLE_SECONDS} without a send parked, when its thread ends.
 */
final class WindowWatch {

  private static final Logger LOG = Logger.getLogger(WindowWatch.class.getName());

  /** A send waiting for its connection to take data. */
  interface Parked {
    SocketChannel channel();

    /** Writes it now, on a sender: its connection takes data or is gone. */
    void resume();

    /**
     * Ends it if it is past a deadline: it then fails without being written, as its write would
     * have, and is not resumed. Must not block.
     *
     * @return whether it ended
     */
    boolean overdue(long nowNanos);

    /** When it began waiting (System.nanoTime): the longest waiting are ended first. */
    long sinceNanos();
  }

  private final ThreadFactory threadFactory;
  private final Queue<Parked> arriving = new ConcurrentLinkedQueue<>();
  /** Sends parked or arriving: whether sends should still wait here first. */
  private final AtomicInteger waiting = new AtomicInteger();
  /** Sends that waited here so far. */
  private final AtomicLong parkedTotal = new AtomicLong();
  private final Object lifecycle = new Object();
  // Guarded by lifecycle.
  private Selector selector;
  private Thread thread;
  private boolean failed;
  // The watch thread's own.
  private final Set<Parked> parked = new LinkedHashSet<>();
  private long passes;
  private volatile long passesSeen;
  private long lastDeadlinesNanos;

  WindowWatch(ThreadFactory threadFactory) {
    this.threadFactory = threadFactory;
  }

  /** Whether sends can wait here: false once the watch failed or the application stopped. */
  boolean healthy() {
    synchronized (lifecycle) {
      return !failed;
    }
  }

  /**
   * The application stops: sends waiting here are written now (their connections are being
   * closed), later ones are written without waiting, and the selector is closed.
   */
  void shutdown() {
    Selector own;
    boolean running;
    synchronized (lifecycle) {
      failed = true;
      own = selector;
      running = thread != null;
    }
    if (own == null) {
      return;
    }
    if (running) {
      own.wakeup(); // the thread sees failed, resumes what waits and closes the selector
    } else {
      close(own);
    }
  }

  /** Sends waiting here now. */
  int waiting() {
    return waiting.get();
  }

  /** Sends that waited here so far. */
  long parkedTotal() {
    return parkedTotal.get();
  }

  /** Passes of the watch thread so far, for tests. */
  long passes() {
    return passesSeen;
  }

  /**
   * Waits for {@code send}'s connection to take data, then resumes it.
   *
   * @return false when the watch cannot run (no selector, no thread): the caller writes now
   */
  boolean park(Parked send) {
    Selector target;
    synchronized (lifecycle) {
      if (failed || !ensureRunning()) {
        return false;
      }
      waiting.incrementAndGet();
      parkedTotal.incrementAndGet();
      arriving.offer(send);
      target = selector;
    }
    target.wakeup();
    return true;
  }

  // Called under lifecycle.
  private boolean ensureRunning() {
    if (thread != null) {
      return true;
    }
    try {
      if (selector == null) {
        selector = Selector.open();
      }
      Thread started = threadFactory.newThread(this::watch);
      if (started == null) {
        return false;
      }
      started.setName("agserver-window-watch");
      started.start();
      thread = started;
      return true;
    } catch (IOException | RuntimeException | OutOfMemoryError e) {
      failed = true;
      LOG.log(Level.WARNING, "Cannot watch connections for their clients' windows; a send to a client"
          + " that stopped reading holds a sender thread until the send time limit", e);
      return false;
    }
  }

  private void watch() {
    Selector own;
    synchronized (lifecycle) {
      own = selector;
    }
    long idleSince = System.nanoTime();
    try {
      while (true) {
        try {
          own.select(Senders.STALL_MS);
        } catch (IOException e) {
          LOG.log(Level.WARNING, "The window watch's selector failed; parked sends are written now", e);
          stop(own);
          return;
        }
        // A managed thread is interrupted when its application stops (and an interrupted thread's
        // select returns at once, for ever); shutdown() sets failed.
        if (Thread.interrupted() || !healthy()) {
          stop(own);
          return;
        }
        resumeReady(own);
        admitArrivals(own);
        long now = System.nanoTime();
        if (now - lastDeadlinesNanos >= TimeUnit.MILLISECONDS.toNanos(Senders.STALL_MS)) {
          lastDeadlinesNanos = now; // once a period, however often sends wake the selector
          endOverdue(own, now);
        }
        passesSeen = ++passes;
        if (!parked.isEmpty()) {
          idleSince = System.nanoTime();
        } else if (System.nanoTime() - idleSince > TimeUnit.SECONDS.toNanos(Senders.IDLE_SECONDS)) {
          if (retire(own)) {
            return;
          }
          idleSince = System.nanoTime();
        }
      }
    } catch (RuntimeException | Error e) {
      LOG.log(Level.WARNING, "The window watch failed; parked sends are written now", e);
      stop(own);
    }
  }

  /** No more waiting here: what waits is written now, the selector closed, the thread gone. */
  private void stop(Selector own) {
    synchronized (lifecycle) {
      failed = true;
      thread = null;
    }
    resumeAll(own);
  }

  private void resumeReady(Selector own) {
    Set<SelectionKey> ready = own.selectedKeys();
    for (Iterator<SelectionKey> keys = ready.iterator(); keys.hasNext(); ) {
      SelectionKey key = keys.next();
      keys.remove();
      if (key.attachment() instanceof Parked send) {
        leave(key, send);
        send.resume();
      }
    }
  }

  private void admitArrivals(Selector own) {
    for (Parked send; (send = arriving.poll()) != null; ) {
      try {
        SocketChannel channel = send.channel();
        SelectionKey key = channel.keyFor(own);
        if (key == null) {
          key = channel.register(own, SelectionKey.OP_WRITE, send);
        } else {
          key.interestOps(SelectionKey.OP_WRITE);
          key.attach(send);
        }
        parked.add(send);
      } catch (ClosedChannelException | CancelledKeyException e) {
        // The connection is gone: its write fails at once.
        waiting.decrementAndGet();
        send.resume();
      } catch (RuntimeException e) {
        // A channel this selector cannot take: the send is written, as without the watch.
        LOG.log(Level.FINE, "A send could not wait for its client's window", e);
        waiting.decrementAndGet();
        send.resume();
      }
    }
  }

  private void endOverdue(Selector own, long now) {
    if (parked.isEmpty()) {
      return;
    }
    List<Parked> gone = new ArrayList<>();
    List<Parked> candidates = new ArrayList<>(parked);
    if (candidates.size() > Senders.ENDS_PER_PASS) {
      candidates.sort(Comparator.comparingLong(Parked::sinceNanos));
    }
    int ended = 0;
    for (Parked send : candidates) {
      SelectionKey key = send.channel().keyFor(own);
      if (key == null || !key.isValid()) {
        gone.add(send); // closed under it: the container reports the close, the write fails
        continue;
      }
      if (ended < Senders.ENDS_PER_PASS && overdue(send, now)) {
        ended++;
        leave(key, send); // it fails without a write, and its close follows
      }
    }
    for (Parked send : gone) {
      if (parked.remove(send)) {
        waiting.decrementAndGet();
        send.resume();
      }
    }
  }

  private static boolean overdue(Parked send, long now) {
    try {
      return send.overdue(now);
    } catch (RuntimeException e) {
      LOG.log(Level.FINE, "A parked send's deadline check failed", e);
      return false;
    }
  }

  private void leave(SelectionKey key, Parked send) {
    if (parked.remove(send)) {
      waiting.decrementAndGet();
    }
    key.attach(null);
    try {
      key.interestOps(0);
    } catch (CancelledKeyException e) {
      // closed meanwhile
    }
  }

  /** Ends the thread unless a send arrived meanwhile; its keys go with it. */
  private boolean retire(Selector own) {
    synchronized (lifecycle) {
      if (!arriving.isEmpty()) {
        return false;
      }
      for (SelectionKey key : own.keys()) {
        key.cancel();
      }
      try {
        own.selectNow(); // releases the keys, and the descriptors of channels closed meanwhile
      } catch (IOException e) {
        LOG.log(Level.FINE, "Could not release the window watch's keys", e);
      }
      thread = null;
      return true;
    }
  }

  private void resumeAll(Selector own) {
    List<Parked> all = new ArrayList<>(parked);
    parked.clear();
    for (Parked send; (send = arriving.poll()) != null; ) {
      all.add(send);
    }
    for (Parked send : all) {
      waiting.decrementAndGet();
      send.resume();
    }
    close(own);
  }

  private static void close(Selector own) {
    try {
      own.close();
    } catch (IOException e) {
      LOG.log(Level.FINE, "Could not close the window watch's selector", e);
    }
  }
}
