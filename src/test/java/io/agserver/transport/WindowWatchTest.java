package io.agserver.transport;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Sends waiting for their client's window on real loopback connections. */
class WindowWatchTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

  private final WindowWatch watch = new WindowWatch(TransportThreads::daemon);
  private final List<SocketChannel> opened = new ArrayList<>();
  private ServerSocketChannel listener;

  @AfterEach
  void close() throws IOException {
    watch.shutdown();
    for (SocketChannel channel : opened) {
      channel.close();
    }
    if (listener != null) {
      listener.close();
    }
  }

  /** A connection: [0] the server's end (non-blocking, as a container's), [1] the client's. */
  private SocketChannel[] connection() throws IOException {
    if (listener == null) {
      listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }
    SocketChannel client = SocketChannel.open();
    client.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
    client.connect(listener.getLocalAddress());
    SocketChannel server = listener.accept();
    server.setOption(StandardSocketOptions.SO_SNDBUF, 4096);
    server.configureBlocking(false);
    opened.add(client);
    opened.add(server);
    return new SocketChannel[] {server, client};
  }

  /** Writes to the server's end until the client's window and the send buffer are full. */
  private static void fill(SocketChannel server) throws IOException {
    ByteBuffer chunk = ByteBuffer.allocate(8192);
    int zeros = 0;
    while (zeros < 3) {
      chunk.clear();
      if (server.write(chunk) == 0) {
        zeros++;
      }
    }
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

    ByteBuffer sink = ByteBuffer.allocate(1 << 20);
    AtomicBoolean reading = new AtomicBoolean(true);
    Thread reader = new Thread(() -> {
      try {
        while (reading.get() && ends[1].read(sink.clear()) >= 0) {
          // drains the connection
        }
      } catch (IOException e) {
        // closed at the end of the test
      }
    });
    reader.setDaemon(true);
    reader.start();
    await().atMost(WAIT).until(() -> send.resumed.get() == 1);
    assertEquals(0, watch.waiting());
    reading.set(false);
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
