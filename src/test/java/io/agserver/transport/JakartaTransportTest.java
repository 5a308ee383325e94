package io.agserver.transport;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import jakarta.websocket.Session;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.agserver.protocol.AGError;

/**
 * Sends, closes and the send time limit of the Jakarta transport, over a session whose writes
 * can be held as a non-reading client holds them. Deadlines are short here; nothing asserts how
 * long anything took.
 */
class JakartaTransportTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private final Senders senders = new Senders(2, TransportThreads::daemon);
  private final ExecutorService closer = Executors.newCachedThreadPool(TransportThreads::daemon);

  private final WindowWatch watch = new WindowWatch(TransportThreads::daemon);
  private final LoopbackConnections connections = new LoopbackConnections();

  @AfterEach
  void stop() throws IOException {
    watch.shutdown();
    closer.shutdownNow();
    connections.close();
  }

  private java.nio.channels.SocketChannel[] connection(boolean filled) throws IOException {
    return connections.open(filled);
  }

  /** A write held past the watchdog's mark: the senders see writes getting stuck. */
  private FakeSession writesGetStuck() {
    FakeSession stuck = new FakeSession(true);
    JakartaTransport transport = transport(stuck, 60_000, 60_000, session -> WriteInterrupter.Outcome.CLOSE_SESSION);
    stuck.hold();
    sendText(transport, "held");
    await().atMost(WAIT).until(senders::writesStuckLately);
    return stuck;
  }

  private JakartaTransport transport(FakeSession fake, long sendTimeoutMillis, long closeTimeoutMillis,
      Function<Session, WriteInterrupter.Outcome> interrupter) {
    return new JakartaTransport(fake.session, senders, closer, sendTimeoutMillis, closeTimeoutMillis, interrupter);
  }

  private static CompletableFuture<Throwable> sendText(JakartaTransport transport, String text) {
    CompletableFuture<Throwable> done = new CompletableFuture<>();
    transport.sendText(text, done::complete);
    return done;
  }

  @Test
  void sendsCompleteAndACloseWithNothingInFlightGoesAtOnce() throws Exception {
    FakeSession fake = new FakeSession(true);
    JakartaTransport transport = transport(fake, 10_000, 30_000, WriteInterrupter::interrupt);
    assertNull(sendText(transport, "one").get(5, TimeUnit.SECONDS));
    assertNull(sendText(transport, "two").get(5, TimeUnit.SECONDS));
    transport.close(4000, "bye");
    await().atMost(WAIT).until(() -> fake.closes.size() == 1);
    assertEquals(List.of("one", "two"), fake.written);
    assertEquals(4000, fake.closes.get(0).getCloseCode().getCode());
    assertEquals("bye", fake.closes.get(0).getReasonPhrase());
  }

  @Test
  void aCloseWaitsForTheSendInFlight() throws Exception {
    FakeSession fake = new FakeSession(true);
    JakartaTransport transport = transport(fake, 10_000, 30_000, WriteInterrupter::interrupt);
    fake.hold();
    CompletableFuture<Throwable> sent = sendText(transport, "last words");
    await().atMost(WAIT).until(() -> fake.log.contains("write-start"));
    transport.close(1000, "done");
    fake.release();
    assertNull(sent.get(5, TimeUnit.SECONDS));
    await().atMost(WAIT).until(() -> fake.closes.size() == 1);
    assertEquals(List.of("write-start", "write-end", "close:1000"), fake.log);
  }

  /** Tyrus: a close from another thread ends the held write. */
  @Test
  void aSendOverTheTimeLimitFailsAndTheCloseEndsTheWrite() throws Exception {
    FakeSession stuck = new FakeSession(true);
    JakartaTransport transport = transport(stuck, 300, 30_000, session -> WriteInterrupter.Outcome.CLOSE_SESSION);
    stuck.hold();
    CompletableFuture<Throwable> sent = sendText(transport, "never read");

    // Another socket is served meanwhile.
    FakeSession other = new FakeSession(true);
    JakartaTransport otherTransport = transport(other, 300, 30_000, WriteInterrupter::interrupt);
    for (int i = 0; i < 50; i++) {
      assertNull(sendText(otherTransport, "m" + i).get(5, TimeUnit.SECONDS));
    }

    Throwable failure = sent.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    AGError error = assertInstanceOf(AGError.class, failure);
    assertEquals("TimeoutError", error.name());
    assertTrue(error.getMessage().contains("socketcluster.sendTimeout"), error.getMessage());
    await().atMost(WAIT).until(() -> !stuck.closes.isEmpty());
    assertEquals(1008, stuck.closes.get(0).getCloseCode().getCode());
    assertEquals(JakartaTransport.SEND_TIMEOUT_REASON, stuck.closes.get(0).getReasonPhrase());
    await().atMost(WAIT).until(() -> senders.writesInProgress() == 0);
    assertTrue(stuck.log.contains("write-failed"), "the held write ended: " + stuck.log);
    assertEquals(50, other.written.size());
  }

  /**
   * While writes get stuck, a send to a connection that cannot take data waits on the window
   * watch, not on a sender; one to a connection that can goes at once; the waiting one goes once
   * its client reads.
   */
  @Test
  void whileWritesGetStuckASendToAFullWindowWaitsForItWithoutASender() throws Exception {
    assertTrue(WindowProbe.available(), "surefire opens java.base/sun.nio.ch, as Liberty does");
    FakeSession stuck = writesGetStuck();
    java.nio.channels.SocketChannel[] full = connection(true);
    FakeSession waiting = new FakeSession(true);
    JakartaTransport waits = new JakartaTransport(waiting.session, senders, closer, 60_000, 60_000,
        WriteInterrupter::interrupt, watch, full[0]);
    CompletableFuture<Throwable> sent = sendText(waits, "after the window opens");
    await().atMost(WAIT).until(() -> watch.waiting() == 1);
    long passes = watch.passes();
    await().atMost(WAIT).until(() -> watch.passes() >= passes + 2);
    assertTrue(waiting.log.isEmpty(), "written into a full window: " + waiting.log);
    assertEquals(1, senders.writesInProgress(), "only the stuck write holds a sender");

    FakeSession reads = new FakeSession(true);
    JakartaTransport goes = new JakartaTransport(reads.session, senders, closer, 60_000, 60_000,
        WriteInterrupter::interrupt, watch, connection(false)[0]);
    assertNull(sendText(goes, "at once").get(WAIT.toSeconds(), TimeUnit.SECONDS));
    assertEquals(List.of("at once"), reads.written);
    assertEquals(1, watch.waiting());

    LoopbackConnections.drain(full[1]);
    assertNull(sent.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    assertEquals(List.of("after the window opens"), waiting.written);
    assertEquals(0, watch.waiting());
    stuck.release();
  }

  /**
   * Open Liberty's way: past the limit, the waiting send fails without being written, the
   * connection's output is shut, the close follows.
   */
  @Test
  void aSendWaitingForAFullWindowPastTheLimitFailsAndTheCloseFollows() throws Exception {
    assertTrue(WindowProbe.available(), "surefire opens java.base/sun.nio.ch, as Liberty does");
    FakeSession stuck = writesGetStuck();
    FakeSession waiting = new FakeSession(false);
    java.util.concurrent.atomic.AtomicInteger outputShut = new java.util.concurrent.atomic.AtomicInteger();
    JakartaTransport waits = new JakartaTransport(waiting.session, senders, closer, 300, 30_000, session -> {
      outputShut.incrementAndGet();
      return WriteInterrupter.Outcome.OUTPUT_SHUT;
    }, watch, connection(true)[0]);
    CompletableFuture<Throwable> sent = sendText(waits, "never read");
    AGError error = assertInstanceOf(AGError.class, sent.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    assertEquals("TimeoutError", error.name());
    await().atMost(WAIT).until(() -> !waiting.closes.isEmpty());
    assertEquals(1008, waiting.closes.get(0).getCloseCode().getCode());
    assertEquals(List.of("close:1008"), waiting.log, "never written");
    assertEquals(1, outputShut.get());
    assertEquals(0, watch.waiting());
    assertTrue(watch.passes() > 0, "it waited on the watch");
    stuck.release();
  }

  /** A close while a send waits for the window waits for it, up to the close timeout. */
  @Test
  void aCloseWhileASendWaitsForTheWindowGoesPastTheCloseTimeout() throws Exception {
    FakeSession stuck = writesGetStuck();
    FakeSession waiting = new FakeSession(false);
    JakartaTransport waits = new JakartaTransport(waiting.session, senders, closer, 60_000, 300,
        session -> WriteInterrupter.Outcome.OUTPUT_SHUT, watch, connection(true)[0]);
    CompletableFuture<Throwable> sent = sendText(waits, "never read");
    await().atMost(WAIT).until(() -> watch.waiting() == 1);
    waits.close(4321, "bye");
    assertInstanceOf(IOException.class, sent.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    await().atMost(WAIT).until(() -> !waiting.closes.isEmpty());
    assertEquals(List.of("close:4321"), waiting.log, "the send was never written; the close followed");
    assertEquals(0, watch.waiting());
    stuck.release();
  }

  /** Sends to connections with room never go through the watch, even while writes get stuck. */
  @Test
  void sendsToAConnectionWithRoomAreWrittenWithoutTheWatch() throws Exception {
    FakeSession stuck = writesGetStuck();
    FakeSession fake = new FakeSession(true);
    JakartaTransport transport = new JakartaTransport(fake.session, senders, closer, 60_000, 60_000,
        WriteInterrupter::interrupt, watch, connection(false)[0]);
    for (int i = 0; i < 20; i++) {
      assertNull(sendText(transport, "m" + i).get(WAIT.toSeconds(), TimeUnit.SECONDS));
    }
    assertEquals(20, fake.written.size());
    assertEquals(0, watch.passes(), "the watch never ran");
    stuck.release();
  }

  /** With no write stuck, sends are written without asking, as the kernel takes them. */
  @Test
  void withNoWriteStuckASendIsWrittenWithoutAsking() throws Exception {
    FakeSession fake = new FakeSession(true);
    JakartaTransport transport = new JakartaTransport(fake.session, senders, closer, 60_000, 60_000,
        WriteInterrupter::interrupt, watch, connection(true)[0]);
    assertNull(sendText(transport, "written").get(WAIT.toSeconds(), TimeUnit.SECONDS));
    assertEquals(List.of("written"), fake.written);
    assertEquals(0, watch.passes(), "the watch never ran");
  }

  /** The outbound queue sends its next frame from the previous one's completion, on the sender. */
  @Test
  void aWriteStartedInlineAfterAnotherIsHeldToTheLimitToo() throws Exception {
    FakeSession stuck = new FakeSession(true);
    JakartaTransport transport = transport(stuck, 300, 30_000, session -> WriteInterrupter.Outcome.CLOSE_SESSION);
    CompletableFuture<Throwable> second = new CompletableFuture<>();
    transport.sendText("first", error -> {
      stuck.hold(); // the client's window is full from now on
      transport.sendText("second", second::complete);
    });
    AGError error = assertInstanceOf(AGError.class, second.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    assertEquals("TimeoutError", error.name());
    await().atMost(WAIT).until(() -> senders.writesInProgress() == 0);
  }

  /** Open Liberty: shutting the output ends the write; the close follows it, never under it. */
  @Test
  void whereOnlyShuttingTheOutputEndsTheWriteTheCloseFollowsIt() throws Exception {
    FakeSession stuck = new FakeSession(false);
    JakartaTransport transport = transport(stuck, 300, 30_000, session -> {
      stuck.failWrites();
      return WriteInterrupter.Outcome.OUTPUT_SHUT;
    });
    stuck.hold();
    CompletableFuture<Throwable> sent = sendText(transport, "never read");
    AGError error = assertInstanceOf(AGError.class, sent.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    assertEquals("TimeoutError", error.name());
    await().atMost(WAIT).until(() -> !stuck.closes.isEmpty());
    assertEquals(List.of("write-start", "write-failed", "close:1008"), stuck.log);
    await().atMost(WAIT).until(() -> senders.writesInProgress() == 0);
  }

  /** Where nothing can end the write, the socket fails at the limit and the close waits for the write. */
  @Test
  void whereNothingEndsTheWriteTheSendFailsAndTheCloseWaits() throws Exception {
    FakeSession stuck = new FakeSession(false);
    JakartaTransport transport = transport(stuck, 300, 30_000, session -> WriteInterrupter.Outcome.WAIT);
    stuck.hold();
    CompletableFuture<Throwable> sent = sendText(transport, "never read");
    assertInstanceOf(AGError.class, sent.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    assertEquals(List.of("write-start"), stuck.log, "no close under the held write");
    stuck.release(); // the client reads again, or leaves
    await().atMost(WAIT).until(() -> !stuck.closes.isEmpty());
    assertEquals(List.of("write-start", "write-end", "close:1008"), stuck.log);
  }

  @Test
  void aCloseThatWaitedPastTheCloseTimeoutEndsTheWrite() throws Exception {
    FakeSession stuck = new FakeSession(true);
    JakartaTransport transport = transport(stuck, 60_000, 300, session -> WriteInterrupter.Outcome.CLOSE_SESSION);
    stuck.hold();
    CompletableFuture<Throwable> sent = sendText(transport, "never read");
    await().atMost(WAIT).until(() -> stuck.log.contains("write-start"));
    transport.close(4001, null);
    // Not the send limit (60 s): the close timeout ends the write, whose send fails as written.
    assertInstanceOf(IOException.class, sent.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    await().atMost(WAIT).until(() -> !stuck.closes.isEmpty());
    assertEquals(4001, stuck.closes.get(0).getCloseCode().getCode());
  }

  /** Open Liberty reports a close, then closes the connection under a blocked write 5.5 s later. */
  @Test
  void aWriteStillGoingAfterTheConnectionClosedIsEnded() throws Exception {
    FakeSession stuck = new FakeSession(false);
    JakartaTransport transport = transport(stuck, 60_000, 30_000, session -> {
      stuck.failWrites();
      return WriteInterrupter.Outcome.OUTPUT_SHUT;
    });
    stuck.hold();
    CompletableFuture<Throwable> sent = sendText(transport, "never read");
    await().atMost(WAIT).until(() -> stuck.log.contains("write-start"));
    transport.connectionClosed();
    // Neither limit (60 s, 30 s) but the grace after the close ends it; it fails as written.
    assertInstanceOf(IOException.class, sent.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    await().atMost(WAIT).until(() -> senders.writesInProgress() == 0);
  }

  /**
   * The socket learns that its send went over the time limit before its session is closed:
   * the container reports a close it sees first as a plain 1008 close, and the socket would not
   * count the client as a slow consumer. On both kinds of runtime: where a close ends the held
   * write (Tyrus) and where only shutting the output does (Open Liberty).
   * The failure callback waits until its own task is the only one the closer was given, or the
   * session closed: a close handed to the closer beside the callback is then seen to overtake it.
   */
  @Test
  void theSocketHearsOfTheSendTimeoutBeforeTheSessionCloses() throws Exception {
    for (boolean closeEndsWrites : new boolean[] {true, false}) {
      ThreadPoolExecutor pool = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
          new SynchronousQueue<>(), TransportThreads::daemon);
      try {
        FakeSession stuck = new FakeSession(closeEndsWrites);
        JakartaTransport transport = new JakartaTransport(stuck.session, senders, pool, 300, 30_000,
            session -> {
              if (closeEndsWrites) {
                return WriteInterrupter.Outcome.CLOSE_SESSION;
              }
              stuck.failWrites();
              return WriteInterrupter.Outcome.OUTPUT_SHUT;
            });
        stuck.hold();
        CompletableFuture<Throwable> failed = new CompletableFuture<>();
        transport.sendText("never read", error -> {
          // This callback's task is the only one the closer was given, or a close got past it.
          await().atMost(WAIT).until(() -> pool.getTaskCount() == 1 || !stuck.closes.isEmpty());
          stuck.log.add("send-failed");
          failed.complete(error);
        });
        assertInstanceOf(AGError.class, failed.get(WAIT.toSeconds(), TimeUnit.SECONDS));
        await().atMost(WAIT).until(() -> !stuck.closes.isEmpty());
        List<String> expected = closeEndsWrites
            ? List.of("write-start", "send-failed", "close:1008", "write-failed") // the close ends it
            : List.of("write-start", "send-failed", "write-failed", "close:1008"); // shut output ends it
        await().atMost(WAIT).until(() -> stuck.log.size() == expected.size());
        assertEquals(expected, stuck.log);
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void aCloseReportedWithNoWriteInFlightChangesNothing() throws Exception {
    FakeSession fake = new FakeSession(false);
    JakartaTransport transport = transport(fake, 60_000, 30_000, session -> {
      throw new AssertionError("nothing to interrupt");
    });
    transport.connectionClosed();
    assertNull(sendText(transport, "after").get(5, TimeUnit.SECONDS));
  }

  @Test
  void reasonsAreCutToFitAControlFrame() {
    assertEquals("", JakartaTransport.fit(null));
    assertEquals("short", JakartaTransport.fit("short"));
    assertEquals(123, JakartaTransport.fit("x".repeat(200)).length());
    String cut = JakartaTransport.fit("é".repeat(100));
    assertTrue(cut.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= 123);
  }
}
