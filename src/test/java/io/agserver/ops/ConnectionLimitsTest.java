package io.agserver.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import io.agserver.config.LimitOptions;

/**
 * The counts behind maxConnections and maxConnectionsPerAddress, and every way a slot ends: each
 * way frees it exactly once.
 */
class ConnectionLimitsTest {

  private final AtomicLong clock = new AtomicLong(1_000);

  private ConnectionLimits limits(int max, int perAddress, String header) {
    return new ConnectionLimits(new LimitOptions(max, perAddress, Optional.ofNullable(header), 0, 0, 0), 5_000,
        clock::get, new Refusals(clock::get));
  }

  @Test
  void theInstanceLimitRefusesWith503AndASlotFreedMakesRoom() {
    ConnectionLimits limits = limits(2, 0, null);
    ConnectionSlot first = limits.admit("a").slot();
    ConnectionSlot second = limits.admit("b").slot();
    ConnectionLimits.Admission third = limits.admit("c");
    assertFalse(third.admitted());
    assertEquals(ConnectionLimits.Refusal.INSTANCE_FULL, third.refusal());
    assertEquals(503, third.refusal().status());
    assertEquals(2, limits.connections());

    first.claim();
    first.release();
    first.release();
    assertEquals(1, limits.connections(), "a second release of one slot frees nothing");
    assertTrue(limits.admit("c").admitted());
    second.releaseUnclaimed();
    assertEquals(1, limits.connections());
  }

  @Test
  void theAddressLimitRefusesWith429AndItsEntryGoesAtZero() {
    ConnectionLimits limits = limits(0, 2, null);
    ConnectionSlot a1 = limits.admit("198.51.100.1").slot();
    ConnectionSlot a2 = limits.admit("198.51.100.1").slot();
    ConnectionLimits.Admission a3 = limits.admit("198.51.100.1");
    assertEquals(ConnectionLimits.Refusal.ADDRESS_FULL, a3.refusal());
    assertEquals(429, a3.refusal().status());
    assertTrue(limits.admit("198.51.100.2").admitted(), "another address has its own count");
    assertEquals(2, limits.addresses());

    a1.release();
    a2.releaseUnclaimed();
    assertEquals(0, limits.connections("198.51.100.1"));
    assertEquals(1, limits.addresses(), "an address at zero holds no entry");
  }

  @Test
  void theInstanceLimitIsToldBeforeTheAddressLimit() {
    ConnectionLimits limits = limits(1, 1, null);
    limits.admit("a");
    assertEquals(ConnectionLimits.Refusal.INSTANCE_FULL, limits.admit("a").refusal());
  }

  @Test
  void theAddressHeaderCountsTheLastEntryTheProxyWrote() {
    ConnectionLimits limits = limits(0, 1, "X-Forwarded-For");
    assertEquals("203.0.113.9", limits.clientAddress("10.0.0.1", List.of("198.51.100.7, 203.0.113.9")));
    assertEquals("203.0.113.9", limits.clientAddress("10.0.0.1", List.of("198.51.100.7", " 203.0.113.9 ")),
        "of several header lines, the last");
    assertEquals("10.0.0.1", limits.clientAddress("10.0.0.1", List.of()), "no header: the connection's address");
    assertEquals("10.0.0.1", limits.clientAddress("10.0.0.1", List.of(" , ")));
    assertEquals("10.0.0.1", limits.clientAddress("10.0.0.1", null));
    assertEquals("10.0.0.1", limits(0, 1, null).clientAddress("10.0.0.1", List.of("198.51.100.7")),
        "without the option the header is not read");
  }

  // ---- the ends of a slot, each freeing it once ----

  @Test
  void anUpgradeTheContainerNeverTookIsFreedWhenItsRequestEnds() {
    ConnectionLimits limits = limits(5, 0, null);
    ConnectionSlot slot = limits.admit("a").slot();
    limits.upgradeAnswered(slot, 200);
    assertTrue(slot.isReleased());
    assertEquals(0, limits.connections());
  }

  @Test
  void anUpgradeTheContainerAnsweredWithAnErrorIsFreedWhenItsRequestEnds() {
    ConnectionLimits limits = limits(5, 0, null);
    ConnectionSlot slot = limits.admit("a").slot();
    slot.handOver();
    limits.upgradeAnswered(slot, 400);
    assertTrue(slot.isReleased());
    assertEquals(0, limits.connections());
    assertEquals(0, limits.awaitingOpen());
  }

  @Test
  void anAcceptedUpgradeWhoseConnectionNeverOpensIsGivenUpByTheSweep() {
    ConnectionLimits limits = limits(5, 0, null);
    ConnectionSlot slot = limits.admit("a").slot();
    slot.handOver();
    limits.upgradeAnswered(slot, 101);
    assertEquals(1, limits.connections());
    assertEquals(1, limits.awaitingOpen());
    limits.expireUnopened(clock.get() + 4_999);
    assertEquals(1, limits.connections(), "kept until the handshake timeout");
    limits.expireUnopened(clock.get() + 5_000);
    assertEquals(0, limits.connections());
    assertEquals(0, limits.awaitingOpen());

    assertFalse(slot.claim(), "a connection that opens after all finds its slot given up");
    ConnectionLimits.Admission late = limits.claim(slot, "a", null);
    assertTrue(late.admitted(), "...and takes a new one while there is room");
    assertEquals(1, limits.connections());
  }

  @Test
  void aConnectionThatOpensAfterItsSlotWasGivenUpIsRefusedWhenTheServerIsFull() {
    ConnectionLimits limits = limits(1, 0, null);
    ConnectionSlot slot = limits.admit("a").slot();
    slot.handOver();
    limits.upgradeAnswered(slot, 101);
    limits.expireUnopened(clock.get() + 5_000);
    assertTrue(limits.admit("b").admitted());
    ConnectionLimits.Admission late = limits.claim(slot, "a", null);
    assertEquals(ConnectionLimits.Refusal.INSTANCE_FULL, late.refusal());
    assertEquals(1, limits.connections());
  }

  @Test
  void aSlotClaimedByItsSocketIsNotGivenUpByTheSweepNorByTheRequest() {
    ConnectionLimits limits = limits(5, 0, null);
    ConnectionSlot slot = limits.admit("a").slot();
    slot.handOver();
    assertSame(slot, limits.claim(slot, "a", null).slot(), "onOpen before the request's end");
    limits.upgradeAnswered(slot, 101);
    assertEquals(0, limits.awaitingOpen());
    limits.expireUnopened(Long.MAX_VALUE);
    limits.upgradeAnswered(slot, 500);
    assertFalse(slot.releaseUnclaimed());
    assertEquals(1, limits.connections(), "the socket's until it closes");
    slot.release();
    assertEquals(0, limits.connections());
  }

  @Test
  void aClaimBetweenTheRequestsCheckAndItsListingLeavesNothingListed() {
    // The clock is read between the state check and the listing: the claim is made right there.
    ConnectionSlot[] slot = new ConnectionSlot[1];
    boolean[] claimed = new boolean[1];
    ConnectionLimits limits = new ConnectionLimits(new LimitOptions(5, 0, Optional.empty(), 0, 0, 0), 5_000,
        () -> {
          if (slot[0] != null && !claimed[0]) {
            claimed[0] = slot[0].claim();
          }
          return clock.get();
        }, new Refusals(clock::get));
    slot[0] = limits.admit("a").slot();
    slot[0].handOver();
    limits.upgradeAnswered(slot[0], 101);
    assertTrue(claimed[0]);
    assertEquals(0, limits.awaitingOpen());
    limits.expireUnopened(Long.MAX_VALUE);
    assertEquals(1, limits.connections());
  }

  @Test
  void aSlotWithoutAnUpgradeIsTakenByTheSocketItself() {
    ConnectionLimits limits = limits(1, 0, null);
    ConnectionLimits.Admission own = limits.claim(null, "a", null);
    assertTrue(own.admitted());
    assertFalse(own.slot().releaseUnclaimed(), "claimed: only its socket frees it");
    assertNull(limits.claim(null, "b", null).slot());
    own.slot().release();
    assertEquals(0, limits.connections());
  }

  /** A socket's end: the slot it claimed (its upgrade's or, if that was given up, a new one). */
  private static void releaseClaimed(ConnectionLimits.Admission claimed) {
    if (claimed.admitted()) {
      claimed.slot().release();
    }
  }

  @Test
  void slotsEndingEveryWayOnManyThreadsLeaveNothingCounted() throws Exception {
    ConnectionLimits limits = limits(50, 3, null);
    int threads = 8;
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread worker = new Thread(() -> {
        try {
          start.await();
          ThreadLocalRandom random = ThreadLocalRandom.current();
          for (int i = 0; i < 2_000; i++) {
            ConnectionLimits.Admission admission = limits.admit("a" + random.nextInt(20));
            if (!admission.admitted()) {
              continue;
            }
            ConnectionSlot slot = admission.slot();
            switch (random.nextInt(4)) {
              case 0 -> limits.upgradeAnswered(slot, 403);
              case 1 -> {
                slot.handOver();
                limits.upgradeAnswered(slot, 101);
                releaseClaimed(limits.claim(slot, "late", null));
              }
              case 2 -> {
                slot.handOver();
                Thread opener = new Thread(() -> releaseClaimed(limits.claim(slot, "late", null)));
                opener.start();
                limits.upgradeAnswered(slot, 101);
                opener.join();
              }
              default -> {
                // Gives up this slot and whichever other threads' are still waiting for their claim.
                slot.handOver();
                limits.upgradeAnswered(slot, 101);
                limits.expireUnopened(Long.MAX_VALUE);
                slot.release();
              }
            }
          }
        } catch (Throwable e) {
          failures.add(e);
        }
      });
      worker.start();
      workers.add(worker);
    }
    start.countDown();
    for (Thread worker : workers) {
      worker.join(60_000);
    }
    assertEquals(List.of(), failures);
    limits.expireUnopened(Long.MAX_VALUE);
    assertEquals(0, limits.connections());
    assertEquals(0, limits.addresses());
    assertEquals(0, limits.awaitingOpen());
  }
}
