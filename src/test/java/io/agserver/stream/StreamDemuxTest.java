package io.agserver.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class StreamDemuxTest {

  @Test
  void demultiplexesByName() {
    StreamDemux<String> demux = new StreamDemux<>();
    List<String> hello = new ArrayList<>();
    List<String> abc = new ArrayList<>();
    demux.stream("hello").consume(hello::add);
    demux.stream("abc").consume(abc::add);
    for (int i = 0; i < 3; i++) {
      demux.write("hello", "world" + i);
      demux.write("abc", "def" + i);
    }
    assertEquals(List.of("world0", "world1", "world2"), hello);
    assertEquals(List.of("def0", "def1", "def2"), abc);
    assertEquals("hello", demux.stream("hello").name());
  }

  @Test
  void writeToNameWithoutConsumersIsDropped() {
    StreamDemux<String> demux = new StreamDemux<>();
    AGStream<String> handle = demux.stream("nobody");
    demux.write("nobody", "x");
    handle.write("y");
    assertEquals(0, demux.streamCount());
    assertFalse(demux.hasConsumers("nobody"));
    assertFalse(handle.hasConsumers());
    // Consumed later: sees only later writes.
    List<String> got = new ArrayList<>();
    handle.consume(got::add);
    demux.write("nobody", "z");
    assertEquals(List.of("z"), got);
  }

  @Test
  void sameInstanceWhileConsumedAndStreamsRemovedWhenConsumersEnd() throws Exception {
    StreamDemux<String> demux = new StreamDemux<>();
    AGStream<String> s = demux.stream("a");
    AGConsumer<String> c1 = s.consume(v -> { });
    AGConsumer<String> c2 = s.createConsumer();
    assertSame(s, demux.stream("a"));
    assertEquals(1, demux.streamCount());
    c1.kill();
    assertEquals(1, demux.streamCount());
    demux.close("a");
    assertTrue(c2.next().toCompletableFuture().get(5, TimeUnit.SECONDS).done());
    assertEquals(0, demux.streamCount());
    assertEquals(0, demux.getConsumerCount("a"));

    // The old handle keeps working: consuming it again re-registers the name.
    List<String> got = new ArrayList<>();
    s.consume(got::add);
    assertEquals(1, demux.streamCount());
    assertSame(s, demux.stream("a"));
    demux.write("a", "again");
    s.write("via-handle");
    assertEquals(List.of("again", "via-handle"), got);
  }

  @Test
  void twoFreeHandlesOfOneNameShareConsumers() {
    StreamDemux<String> demux = new StreamDemux<>();
    AGStream<String> h1 = demux.stream("n");
    AGStream<String> h2 = demux.stream("n");
    assertNotSame(h1, h2);
    List<String> a = new ArrayList<>();
    List<String> b = new ArrayList<>();
    h1.consume(a::add);
    h2.consume(b::add);
    assertEquals(2, demux.getConsumerCount("n"));
    assertEquals(2, h1.getConsumerCount());
    assertEquals(2, h2.getConsumerCount());
    h2.write("x");
    assertEquals(List.of("x"), a);
    assertEquals(List.of("x"), b);
  }

  @Test
  void resumesAfterCloseAll() throws Exception {
    StreamDemux<String> demux = new StreamDemux<>();
    List<String> a = new ArrayList<>();
    AGConsumer<String> first = demux.stream("x").consume(a::add);
    AGConsumer<String> other = demux.stream("y").consume(v -> { });
    demux.write("x", "1");
    demux.closeAll();
    assertTrue(first.isDone());
    assertTrue(other.isDone());
    assertEquals(0, demux.getConsumerCountAll());
    List<String> b = new ArrayList<>();
    demux.stream("x").consume(b::add);
    demux.write("x", "2");
    assertEquals(List.of("1"), a);
    assertEquals(List.of("2"), b);
  }

  @Test
  void closeAllDeliversBacklogs() throws Exception {
    StreamDemux<Integer> demux = new StreamDemux<>();
    CompletableFuture<Void> gate = new CompletableFuture<>();
    List<Integer> got = new ArrayList<>();
    AGConsumer<Integer> c = demux.stream("s").consumeAsync(v -> {
      got.add(v);
      return gate;
    });
    demux.write("s", 1);
    demux.write("s", 2);
    demux.closeAll();
    assertFalse(c.isDone());
    gate.complete(null);
    c.done().toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertEquals(List.of(1, 2), got);
    assertEquals(0, demux.streamCount());
  }

  @Test
  void killAndKillAll() {
    StreamDemux<String> demux = new StreamDemux<>();
    AGConsumer<String> a = demux.stream("a").createConsumer();
    AGConsumer<String> b1 = demux.stream("b").createConsumer();
    AGConsumer<String> b2 = demux.stream("b").createConsumer();
    for (int i = 0; i < 10; i++) {
      demux.write("a", "x");
      demux.write("b", "x");
    }
    assertEquals(10, demux.getBackpressureAll());
    demux.kill("a");
    assertTrue(a.isDone());
    assertEquals(0, a.backpressure());
    assertFalse(b1.isDone());
    assertEquals(1, demux.streamCount());
    demux.killAll();
    assertTrue(b1.isDone());
    assertTrue(b2.isDone());
    assertEquals(0, demux.getBackpressureAll());
    assertEquals(0, demux.streamCount());
    assertEquals(0, demux.getConsumerCountAll());
  }

  @Test
  void backpressureAndStats() {
    StreamDemux<String> demux = new StreamDemux<>();
    AGConsumer<String> a = demux.stream("hello").createConsumer();
    for (int i = 0; i < 10; i++) {
      demux.write("hello", "world" + i);
    }
    AGConsumer<String> b = demux.stream("hello").createConsumer();
    AGConsumer<String> c = demux.stream("foo").createConsumer();
    demux.write("hello", "123");
    demux.close("hello");

    assertEquals(12, demux.getBackpressure("hello"));
    assertEquals(0, demux.getBackpressure("foo"));
    assertEquals(0, demux.getBackpressure("none"));
    assertEquals(12, demux.getBackpressureAll());
    assertEquals(12, demux.getConsumerBackpressure(a.id()));
    assertEquals(2, demux.getConsumerBackpressure(b.id()));
    assertEquals(0, demux.getConsumerBackpressure(-1));

    assertEquals(List.of(new ConsumerStats(a.id(), 12, "hello"), new ConsumerStats(b.id(), 2, "hello")),
        demux.getConsumerStatsList("hello"));
    assertEquals(List.of(), demux.getConsumerStatsList("bar"));
    List<ConsumerStats> all = new ArrayList<>(demux.getConsumerStatsListAll());
    all.sort(Comparator.comparingLong(ConsumerStats::id));
    assertEquals(List.of(new ConsumerStats(a.id(), 12, "hello"), new ConsumerStats(b.id(), 2, "hello"),
        new ConsumerStats(c.id(), 0, "foo")), all);
    assertEquals(Optional.of(new ConsumerStats(c.id(), 0, "foo")), demux.getConsumerStats(c.id()));
    assertEquals(new ConsumerStats(c.id(), 0, "foo"), c.stats());
    assertEquals(Optional.empty(), demux.getConsumerStats(-1));

    assertTrue(demux.hasConsumer("hello", a.id()));
    assertFalse(demux.hasConsumer("foo", a.id()));
    assertFalse(demux.hasConsumer("none", a.id()));
    assertTrue(demux.hasConsumerAll(c.id()));
    assertFalse(demux.hasConsumerAll(-1));
    assertEquals(2, demux.getConsumerCount("hello"));
    assertEquals(3, demux.getConsumerCountAll());
    assertTrue(demux.hasConsumers("foo"));

    a.kill();
    b.kill();
    c.kill();
    assertEquals(List.of(), demux.getConsumerStatsListAll());
    assertEquals(0, demux.streamCount());
  }

  @Test
  void consumerOperationsById() {
    StreamDemux<String> demux = new StreamDemux<>();
    List<String> a = new ArrayList<>();
    List<String> b = new ArrayList<>();
    AGConsumer<String> ca = demux.stream("s").consume(a::add);
    AGConsumer<String> cb = demux.stream("t").consume(b::add);
    demux.writeToConsumer(cb.id(), "only-b");
    demux.closeConsumer(ca.id());
    assertTrue(ca.isDone());
    demux.write("s", "after");
    demux.killConsumer(cb.id());
    assertTrue(cb.isDone());
    demux.write("t", "after");
    assertEquals(List.of(), a);
    assertEquals(List.of("only-b"), b);
    assertEquals(0, demux.streamCount());
    // Unknown ids are ignored.
    demux.killConsumer(ca.id());
    demux.closeConsumer(-5);
    demux.writeToConsumer(-5, "x");
  }

  @Test
  void consumersComingAndGoingConcurrentlyNeverLoseARegistration() throws Exception {
    StreamDemux<Integer> demux = new StreamDemux<>();
    int threads = 4;
    int rounds = 20_000;
    CountDownLatch start = new CountDownLatch(1);
    AtomicInteger failures = new AtomicInteger();
    List<Thread> list = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread th = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < rounds; i++) {
          AGStream<Integer> s = demux.stream("shared");
          CountDownLatch got = new CountDownLatch(1);
          AGConsumer<Integer> c = s.consume(v -> got.countDown());
          // While we hold a consumer, the name must route to us (another writer may run our handler).
          demux.write("shared", i);
          try {
            if (!got.await(5, TimeUnit.SECONDS) || !demux.hasConsumer("shared", c.id())) {
              failures.incrementAndGet();
            }
          } catch (InterruptedException e) {
            return;
          }
          c.kill();
        }
      });
      list.add(th);
      th.start();
    }
    start.countDown();
    for (Thread th : list) {
      th.join(60_000);
    }
    assertEquals(0, failures.get());
    assertEquals(0, demux.streamCount());
    assertEquals(0, demux.getConsumerCountAll());
  }
}
