package io.agserver.transport;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/** The sender threads: work gets done, and a write that blocks holds up no other socket. */
class SendersTest {

  @Test
  void runsEveryTaskOnSenderThreadsWhichMayWriteInlineForAWhile() throws Exception {
    Senders senders = new Senders(2, TransportThreads::daemon);
    int count = 1000;
    CountDownLatch done = new CountDownLatch(count);
    List<Boolean> inline = new CopyOnWriteArrayList<>();
    for (int i = 0; i < count; i++) {
      senders.execute(() -> {
        inline.add(Senders.mayWriteInline());
        done.countDown();
      });
    }
    assertTrue(done.await(5, TimeUnit.SECONDS));
    assertFalse(inline.contains(false), "a task's first write may go inline");
    assertTrue(senders.threadCount() <= 2, "no thread beyond the core without a stall");
    assertFalse(Senders.mayWriteInline(), "other threads hand their writes over");
  }

  @Test
  void aSenderWritesInlineOnlySoManyFramesInARow() throws Exception {
    Senders senders = new Senders(1, TransportThreads::daemon);
    CountDownLatch done = new CountDownLatch(1);
    int[] inlineWrites = new int[1];
    senders.execute(() -> {
      while (Senders.mayWriteInline()) {
        inlineWrites[0]++;
      }
      done.countDown();
    });
    assertTrue(done.await(5, TimeUnit.SECONDS));
    assertEquals(Senders.INLINE_WRITES, inlineWrites[0]);
  }

  @Test
  void threadsComeFromTheGivenFactory() throws Exception {
    List<Thread> made = new CopyOnWriteArrayList<>();
    ThreadFactory factory = runnable -> {
      Thread thread = new Thread(runnable);
      thread.setDaemon(true);
      made.add(thread);
      return thread;
    };
    Senders senders = new Senders(1, factory);
    CountDownLatch done = new CountDownLatch(1);
    List<String> names = new CopyOnWriteArrayList<>();
    senders.execute(() -> {
      names.add(Thread.currentThread().getName());
      done.countDown();
    });
    assertTrue(done.await(5, TimeUnit.SECONDS));
    assertTrue(made.stream().anyMatch(t -> t.getName().equals("agserver-send-1")), "sender: " + made);
    assertTrue(made.stream().anyMatch(t -> t.getName().equals("agserver-send-watchdog")), "watchdog: " + made);
    assertEquals(List.of("agserver-send-1"), names);
  }

  @Test
  void aFactoryThatRefusesThreadsLeavesTheWorkQueued() {
    Senders senders = new Senders(1, runnable -> {
      throw new IllegalStateException("application stopped");
    });
    senders.execute(() -> { });
    assertEquals(0, senders.threadCount());
  }

  @Test
  void theWatchdogChecksEachWriteInProgressUntilItEnds() throws Exception {
    Senders senders = new Senders(1, TransportThreads::daemon);
    CountDownLatch checked = new CountDownLatch(3);
    CountDownLatch release = new CountDownLatch(1);
    Senders.Watched write = now -> {
      checked.countDown();
      return false;
    };
    CountDownLatch finished = new CountDownLatch(1);
    senders.execute(() -> {
      Senders.beginWrite(write);
      try {
        release.await(30, TimeUnit.SECONDS); // a write the client's window holds
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        Senders.endWrite();
        finished.countDown();
      }
    });
    assertTrue(checked.await(10, TimeUnit.SECONDS), "the watchdog looks at the write repeatedly");
    assertEquals(1, senders.writesInProgress());
    release.countDown();
    assertTrue(finished.await(5, TimeUnit.SECONDS));
    await().atMost(Duration.ofSeconds(5)).until(() -> senders.writesInProgress() == 0);
  }

  @Test
  void aBlockedWriteGetsAnotherThreadStartedForTheRest() throws Exception {
    Senders senders = new Senders(1, TransportThreads::daemon);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch blocked = new CountDownLatch(1);
    senders.execute(() -> {
      blocked.countDown();
      try {
        release.await(30, TimeUnit.SECONDS); // a client that does not read
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    assertTrue(blocked.await(5, TimeUnit.SECONDS));
    CountDownLatch others = new CountDownLatch(100);
    for (int i = 0; i < 100; i++) {
      senders.execute(others::countDown);
    }
    assertTrue(others.await(5, TimeUnit.SECONDS), "the other sockets' writes waited for the blocked one");
    assertEquals(2, senders.threadCount());
    release.countDown();
  }

  /**
   * The liveness check's measure: sends that wait while every sender is stuck in a write and no
   * thread can be added (the factory refuses) count as stalled, for as long as that lasts.
   */
  @Test
  void statusCountsTheTimeSendsWaitWithNoWriteFinishing() throws Exception {
    java.util.concurrent.atomic.AtomicInteger made = new java.util.concurrent.atomic.AtomicInteger();
    // One sender and the watchdog; then the factory refuses, as a stopping container's does.
    ThreadFactory two = runnable -> made.incrementAndGet() > 2 ? null : TransportThreads.daemon(runnable);
    Senders senders = new Senders(1, two);
    assertEquals(new io.agserver.core.SenderStatus(0, 0, 0, 0), senders.status());
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch second = new CountDownLatch(1);
    senders.execute(() -> {
      Senders.beginWrite(now -> false);
      writing.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    assertTrue(writing.await(5, TimeUnit.SECONDS));
    senders.execute(second::countDown);
    await().atMost(Duration.ofSeconds(10)).until(() -> senders.status().stalledMillis() > 300);
    io.agserver.core.SenderStatus stuck = senders.status();
    assertEquals(1, stuck.threads());
    assertEquals(1, stuck.writing());
    assertEquals(1, stuck.queued());

    release.countDown();
    assertTrue(second.await(5, TimeUnit.SECONDS));
    await().atMost(Duration.ofSeconds(10)).until(() -> senders.status().stalledMillis() == 0);
  }

  /**
   * Clients that stop reading at the same moment (a fan-out fills all their windows at once) each
   * hold a sender in a write: the threads the others need must come in a few watchdog periods,
   * not one period per stuck write, or every other socket waits seconds (and misses its pings).
   */
  @Test
  void aWaveOfBlockedWritesGetsItsThreadsInAFewWatchdogPasses() throws Exception {
    assertAReaderWaitsAFewPassesBehind(200, false);
  }

  /** The same while other writes finish meanwhile: progress elsewhere must not slow the rescue. */
  @Test
  void aWaveOfBlockedWritesAmongWritesThatFinishGetsItsThreadsInAFewPasses() throws Exception {
    assertAReaderWaitsAFewPassesBehind(200, true);
  }

  /**
   * A few slow clients at the head of a fan-out hold every core thread, and the look sees nothing
   * but stuck writes: too few sends to tell a wave from them. The pool grows by doubling, not by
   * a thread for every send waiting (it started 1,000 for such a look before the estimate
   * needed a sample of 2 * core sends).
   */
  @Test
  void aFewSlowClientsAheadOfAFanOutDoNotLookLikeAWave() throws Exception {
    int core = 4;
    Senders senders = new Senders(core, TransportThreads::daemon);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch writing = new CountDownLatch(core);
    try {
      for (int i = 0; i < core; i++) {
        senders.execute(heldWrite(now -> false, writing::countDown, release));
      }
      assertTrue(writing.await(10, TimeUnit.SECONDS), "the slow clients' writes are in progress");
      int readers = 2_000;
      CountDownLatch delivered = new CountDownLatch(readers);
      for (int i = 0; i < readers; i++) {
        senders.execute(delivered::countDown);
      }
      assertTrue(delivered.await(30, TimeUnit.SECONDS), "the fan-out's other sends got threads");
      // The looks that saw them waiting are over: whatever they started is counted.
      long look = senders.watchdogPasses();
      await().atMost(Duration.ofSeconds(10)).until(() -> senders.watchdogPasses() >= look + 2);
      assertTrue(senders.threadCount() <= 4 * core, "threads for " + core + " slow clients: " + senders.threadCount());
    } finally {
      release.countDown();
    }
  }

  /**
   * Clients that stopped reading together reach the send time limit together: the watchdog ends
   * their writes a few at a time, so that a thousand failure paths and closes do not all run at
   * once while the other sockets' sends wait for the CPU.
   */
  @Test
  void writesPastTheirDeadlineTogetherAreEndedAFewPerPass() throws Exception {
    int stuck = 3 * Senders.ENDS_PER_PASS;
    Senders senders = new Senders(stuck, TransportThreads::daemon);
    CountDownLatch writing = new CountDownLatch(stuck);
    CountDownLatch allEnded = new CountDownLatch(stuck);
    Map<Long, Integer> endedPerPass = new ConcurrentHashMap<>();
    for (int i = 0; i < stuck; i++) {
      CountDownLatch release = new CountDownLatch(1);
      senders.execute(heldWrite(now -> {
        // Past the deadline once every write is in progress, all of them at the same look.
        if (writing.getCount() > 0 || release.getCount() == 0) {
          return false;
        }
        endedPerPass.merge(senders.watchdogPasses(), 1, Integer::sum);
        release.countDown(); // the write fails, as when its connection's output is shut
        allEnded.countDown();
        return true;
      }, writing::countDown, release));
    }
    assertTrue(allEnded.await(30, TimeUnit.SECONDS), "every write past its deadline is ended");
    assertTrue(endedPerPass.values().stream().allMatch(n -> n <= Senders.ENDS_PER_PASS),
        "ended per watchdog look: " + endedPerPass);
    assertTrue(endedPerPass.size() >= 3, "ended per watchdog look: " + endedPerPass);
  }

  /** With more writes overdue than a look ends, the ones in progress longest go first. */
  @Test
  void theWritesInProgressLongestAreEndedFirst() throws Exception {
    int each = Senders.ENDS_PER_PASS;
    Senders senders = new Senders(2 * each, TransportThreads::daemon);
    CountDownLatch olderWriting = new CountDownLatch(each);
    CountDownLatch writing = new CountDownLatch(2 * each);
    CountDownLatch allEnded = new CountDownLatch(2 * each);
    Map<Long, List<String>> endedPerPass = new ConcurrentHashMap<>();
    for (int i = 0; i < 2 * each; i++) {
      if (i == each) {
        assertTrue(olderWriting.await(10, TimeUnit.SECONDS), "the older writes are in progress");
      }
      String name = (i < each ? "older-" : "newer-") + i;
      CountDownLatch started = i < each ? olderWriting : new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      senders.execute(heldWrite(now -> {
        if (writing.getCount() > 0 || release.getCount() == 0) {
          return false; // overdue once all are in progress, all at the same look
        }
        endedPerPass.computeIfAbsent(senders.watchdogPasses(), pass -> new CopyOnWriteArrayList<>()).add(name);
        release.countDown();
        allEnded.countDown();
        return true;
      }, () -> {
        started.countDown();
        writing.countDown();
      }, release));
    }
    assertTrue(allEnded.await(30, TimeUnit.SECONDS), "every write past its deadline is ended");
    List<String> first = endedPerPass.get(endedPerPass.keySet().stream().min(Long::compare).orElseThrow());
    assertEquals(each, first.size(), "ended per watchdog look: " + endedPerPass);
    assertTrue(first.stream().allMatch(name -> name.startsWith("older-")), "ended first: " + first);
  }

  /**
   * The reader waits for the threads of the stuck writes ahead of it: they must be asked for in
   * a few rounds (the watchdog passes that start more than core threads), not in a round per
   * doubling of the pool (5 rounds for 200 before the estimate of the sends likely to get stuck).
   */
  private static void assertAReaderWaitsAFewPassesBehind(int stuck, boolean readersBetween) throws Exception {
    Senders senders = new Senders(4, TransportThreads::daemon);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch writing = new CountDownLatch(stuck);
    try {
      long before = senders.watchdogPasses();
      for (int i = 0; i < stuck; i++) {
        senders.execute(heldWrite(now -> false, writing::countDown, release));
        if (readersBetween) {
          senders.execute(() -> { }); // a client that reads: its write finishes at once
        }
      }
      CountDownLatch reader = new CountDownLatch(1);
      AtomicLong rounds = new AtomicLong(-1);
      senders.execute(() -> { // a client that reads, queued behind them
        rounds.set(senders.growthPasses());
        reader.countDown();
      });
      assertTrue(reader.await(50, TimeUnit.SECONDS), "the reader's write never got a thread");
      long passes = senders.watchdogPasses() - before;
      assertTrue(passes <= 20, "the reader's write waited " + passes + " watchdog passes behind " + stuck + " stuck writes");
      assertTrue(rounds.get() <= 3, "the reader's write waited " + rounds.get() + " rounds of thread starts behind "
          + stuck + " stuck writes");
      assertTrue(writing.await(10, TimeUnit.SECONDS), "every stuck write has its thread");
    } finally {
      release.countDown();
    }
  }

  /**
   * A write that a client which does not read holds until {@code release}, watched as
   * {@code write}; {@code began} runs once it is in progress.
   */
  private static Runnable heldWrite(Senders.Watched write, Runnable began, CountDownLatch release) {
    return () -> {
      Senders.beginWrite(write);
      began.run();
      try {
        release.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        Senders.endWrite();
      }
    };
  }
}
