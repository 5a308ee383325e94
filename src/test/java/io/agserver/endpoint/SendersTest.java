package io.agserver.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** The sender threads: work gets done, and a write that blocks holds up no other socket. */
class SendersTest {

  @Test
  void runsEveryTaskOnSenderThreadsWhichMayWriteInlineForAWhile() throws Exception {
    Senders senders = new Senders(2);
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
    Senders senders = new Senders(1);
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
  void aBlockedWriteGetsAnotherThreadStartedForTheRest() throws Exception {
    Senders senders = new Senders(1);
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
}
