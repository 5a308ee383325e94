package io.agserver.transport;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Sends waiting for their client's window on real loopback connections. */
class WindowWatchTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

  private final WindowWatch watch = new WindowWatch(TransportThreads::daemon);
  private final LoopbackConnections connections = new LoopbackConnections();

  @AfterEach
  void close() throws IOException {
    watch.shutdown();
    connections.close();
  }

  private SocketChannel[] connection() throws IOException {
    return connections.open(false);
  }

  private static void fill(SocketChannel server) throws IOException {
    LoopbackConnections.fill(server);
  }

  private static final class Send implements WindowWatch.Parked {
    final SocketChannel channel;
    final AtomicInteger resumed = new AtomicInteger();
    volatile boolean overdue;
    volatile long endedAtPass = -1;
    final WindowWatch watch;
    final long since = System.nanoTime();

    Send(SocketChannel channel, WindowWatch watch) {
      this.channel = channel;
      this.watch = watch;
    }

    @Override
    public SocketChannel channel() {
      return channel;
    }

    @Override
    public void resume() {
      resumed.incrementAndGet();
    }

    @Override
    public boolean overdue(long nowNanos) {
      if (overdue) {
        endedAtPass = watch.passes();
      }
      return overdue;
    }

    @Override
    public long sinceNanos() {
      return since;
    }
  }

  @Test
  void aSendToAConnectionThatTakesDataGoesOnAtOnce() throws Exception {
    Send send = new Send(connection()[0], watch);
    assertTrue(watch.park(send));
    await().atMost(WAIT).until(() -> send.resumed.get() == 1);
    assertEquals(0, watch.waiting());
  }

  @Test
  void aSendWaitsWhileTheWindowIsFullAndGoesOnOnceTheClientReads() throws Exception {
    SocketChannel[] ends = connection();
    fill(ends[0]);
    Send send = new Send(ends[0], watch);
    assertTrue(watch.park(send));
    await().atMost(WAIT).until(() -> watch.waiting() == 1 && watch.passes() > 0);
    long seen = watch.passes();
    await().atMost(WAIT).until(() -> watch.passes() >= seen + 3);
    assertEquals(0, send.resumed.get(), "resumed while the client's window was full");
    assertEquals(1, watch.waiting());

    LoopbackConnections.drain(ends[1]);
    await().atMost(WAIT).until(() -> send.resumed.get() == 1);
    assertEquals(0, watch.waiting());
  }

  @Test
  void aSendPastItsDeadlineIsEndedWithoutBeingWritten() throws Exception {
    SocketChannel[] ends = connection();
    fill(ends[0]);
    Send send = new Send(ends[0], watch);
    assertTrue(watch.park(send));
    await().atMost(WAIT).until(() -> watch.passes() > 1);
    assertEquals(0, send.resumed.get());
    send.overdue = true;
    await().atMost(WAIT).until(() -> watch.waiting() == 0);
    assertTrue(send.endedAtPass >= 0);
    long seen = watch.passes();
    await().atMost(WAIT).until(() -> watch.passes() >= seen + 2);
    assertEquals(0, send.resumed.get(), "an ended send is not written");
  }

  @Test
  void aChannelTheSelectorCannotTakeIsWrittenAtOnce() throws Exception {
    SocketChannel blocking = connection()[0];
    blocking.configureBlocking(true); // a selector refuses it
    Send send = new Send(blocking, watch);
    assertTrue(watch.park(send));
    await().atMost(WAIT).until(() -> send.resumed.get() == 1);
    assertEquals(0, watch.waiting());
  }

  @Test
  void whenTheApplicationStopsWaitingSendsAreWrittenAndNoneWaitsAnyMore() throws Exception {
    SocketChannel[] ends = connection();
    fill(ends[0]);
    Send send = new Send(ends[0], watch);
    assertTrue(watch.park(send));
    await().atMost(WAIT).until(() -> watch.passes() > 0);
    assertTrue(watch.healthy());
    watch.shutdown();
    await().atMost(WAIT).until(() -> send.resumed.get() == 1);
    assertFalse(watch.healthy());
    assertFalse(watch.park(new Send(ends[0], watch)), "writes at once from now on");
    assertEquals(0, watch.waiting());
  }

  @Test
  void aSendWhoseConnectionClosesIsResumedToFail() throws Exception {
    SocketChannel[] ends = connection();
    fill(ends[0]);
    Send send = new Send(ends[0], watch);
    assertTrue(watch.park(send));
    await().atMost(WAIT).until(() -> watch.passes() > 1);
    ends[0].close();
    await().atMost(WAIT).until(() -> send.resumed.get() == 1);
    assertEquals(0, watch.waiting());
  }

  @Test
  void sendsPastTheirDeadlineTogetherAreEndedAFewPerPass() throws Exception {
    List<Send> sends = new ArrayList<>();
    for (int i = 0; i < 3 * Senders.ENDS_PER_PASS; i++) {
      SocketChannel[] ends = connection();
      fill(ends[0]);
      Send send = new Send(ends[0], watch);
      send.overdue = true;
      sends.add(send);
    }
    for (Send send : sends) {
      assertTrue(watch.park(send));
    }
    await().atMost(WAIT).until(() -> sends.stream().allMatch(s -> s.endedAtPass >= 0));
    Map<Long, Integer> perPass = new ConcurrentHashMap<>();
    for (Send send : sends) {
      perPass.merge(send.endedAtPass, 1, Integer::sum);
    }
    assertFalse(perPass.containsKey(-1L));
    assertTrue(perPass.values().stream().allMatch(n -> n <= Senders.ENDS_PER_PASS), perPass::toString);
  }
}
