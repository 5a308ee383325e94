package io.agserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.agserver.codec.JsonCodec;
import io.agserver.event.AGDisconnectionEvent;
import io.agserver.protocol.CloseCodes;

/**
 * The graceful shutdown against recording transports, on the server's own timer with the test's
 * clock: readiness goes down first, new sockets are refused, the sockets close with 1001 one turn
 * at a time over drainTime in id order, each only once it owes no answer (or ackTimeout after its
 * turn), and the closes run on the workers, not on the timer.
 */
class DrainTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private final TestClock clock = new TestClock();
  private final List<Object> events = new CopyOnWriteArrayList<>();
  private AGServer server;

  private AGServer server(Map<String, String> config) {
    Map<String, String> all = new HashMap<>(Map.of("pingTimeoutDisabled", "true"));
    all.putAll(config);
    server = new AGServer(TestServers.options(all), null, events::add, null, null, clock);
    await(server::isReady);
    return server;
  }

  @AfterEach
  void close() {
    if (server != null) {
      server.close();
    }
  }

  private static void await(BooleanSupplier condition) {
    Awaitility.await().atMost(WAIT).until(condition::getAsBoolean);
  }

  private AGServerSocket handshaken(FakeTransport transport) {
    AGServerSocket socket = server.accept(transport, TestServers.request());
    socket.receive("{\"event\":\"#handshake\",\"cid\":1}");
    assertEquals(AGServerSocket.OPEN, socket.state());
    return socket;
  }

  /** The container's side of a close: the connection ended (as AGEndpoint.onClose reports it). */
  private static void connectionEnded(AGServerSocket socket, FakeTransport transport) {
    socket.connection().closed(transport.closeCode, transport.closeReason);
  }

  private static Object rid(String packet) {
    Object decoded = JsonCodec.instance().decode(packet);
    return decoded instanceof Map<?, ?> map ? map.get("rid") : null;
  }

  private static boolean answered(FakeTransport transport, int cid) {
    return transport.packets().stream().anyMatch(p -> Integer.valueOf(cid).equals(rid(p)));
  }

  @Test
  void readinessGoesDownAndNewSocketsAreRefusedBeforeAnySocketCloses() {
    server(Map.of("drainTime", "3000"));
    FakeTransport first = new FakeTransport();
    handshaken(first);
    handshaken(new FakeTransport());
    assertTrue(server.isReady());
    assertFalse(server.isDraining());
    List<String> seenAtDisconnection = new CopyOnWriteArrayList<>();
    server.listener("disconnection").consume(event ->
        seenAtDisconnection.add("ready=" + server.isReady() + " draining=" + server.isDraining()));

    var drained = server.drain().toCompletableFuture();

    assertFalse(server.isReady());
    assertTrue(server.isDraining());
    FakeTransport late = new FakeTransport();
    AGServerSocket refused = server.accept(late, TestServers.request());
    assertEquals(AGServerSocket.CLOSED, refused.state());
    assertEquals(CloseCodes.GOING_AWAY, late.closeCode);
    assertFalse(server.pendingClients().containsKey(refused.id()));
    await(() -> !seenAtDisconnection.isEmpty());
    assertEquals("ready=false draining=true", seenAtDisconnection.get(0));
    assertFalse(drained.isDone(), "the second socket's turn has not come");
  }

  @Test
  void socketsCloseWith1001OneTurnAtATimeOverTheDrainTimeInIdOrder() {
    server(Map.of("drainTime", "4000"));
    Map<AGServerSocket, FakeTransport> transports = new HashMap<>();
    for (int i = 0; i < 4; i++) {
      FakeTransport transport = new FakeTransport();
      transports.put(handshaken(transport), transport);
    }
    List<AGServerSocket> byId = new ArrayList<>(transports.keySet());
    byId.sort(Comparator.comparing(AGServerSocket::id));
    List<String> closedOn = new CopyOnWriteArrayList<>();
    server.listener("disconnection").consume(event -> closedOn.add(Thread.currentThread().getName()));
    long t0 = clock.millis();

    var drained = server.drain().toCompletableFuture();

    // The turns are t0, +1000, +2000, +3000: at each, the next socket by id closes, and none of
    // those whose turn the clock has not reached.
    for (int turn = 0; turn < 4; turn++) {
      clock.set(t0 + turn * 1000L);
      FakeTransport current = transports.get(byId.get(turn));
      await(() -> current.closeCode != null);
      assertEquals(CloseCodes.GOING_AWAY, current.closeCode);
      assertEquals("Server is shutting down", current.closeReason);
      for (int later = turn + 1; later < 4; later++) {
        assertNull(transports.get(byId.get(later)).closeCode, "socket " + later + " closed in turn " + turn);
        assertEquals(AGServerSocket.OPEN, byId.get(later).state());
      }
      assertFalse(drained.isDone());
      connectionEnded(byId.get(turn), current);
    }
    await(drained::isDone);
    assertEquals(0, server.clientsCount());
    await(() -> closedOn.size() == 4);
    assertTrue(closedOn.stream().noneMatch(name -> name.startsWith("agserver-timer")), "closed on " + closedOn);
    assertTrue(events.stream().filter(AGDisconnectionEvent.class::isInstance).map(AGDisconnectionEvent.class::cast)
        .allMatch(event -> event.code() == CloseCodes.GOING_AWAY));
  }

  @Test
  void aDrainTimeOfZeroClosesEverySocketAtOnce() {
    server(Map.of("drainTime", "0"));
    List<FakeTransport> transports = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      FakeTransport transport = new FakeTransport();
      handshaken(transport);
      transports.add(transport);
    }
    server.drain();
    await(() -> transports.stream().allMatch(t -> t.closeCode != null));
    assertTrue(transports.stream().allMatch(t -> t.closeCode == CloseCodes.GOING_AWAY));
  }

  @Test
  void anRpcReceivedBeforeTheTurnIsAnsweredBeforeTheCloseAndLaterMessagesAreStillHandled() {
    server(Map.of("drainTime", "1000", "ackTimeout", "5000"));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    CompletableFuture<AGRequest> held = new CompletableFuture<>();
    socket.procedure("slow").consume(held::complete);
    socket.procedure("echo").consume(request -> request.end(request.data()));
    socket.receive("{\"event\":\"slow\",\"cid\":2}");
    assertTrue(held.isDone());

    server.drain();
    await(socket::inDrainTurn);
    // It owes the answer to #2: still open, and still serving what arrives.
    socket.receive("{\"event\":\"echo\",\"cid\":3,\"data\":\"x\"}");
    await(() -> answered(transport, 3));
    assertEquals(AGServerSocket.OPEN, socket.state());
    assertNull(transport.closeCode);

    held.join().end("done");
    await(() -> transport.closeCode != null);
    assertEquals(CloseCodes.GOING_AWAY, transport.closeCode);
    int answer = -1;
    for (int i = 0; i < transport.wire.size(); i++) {
      if (Integer.valueOf(2).equals(rid(transport.wire.get(i)))) {
        answer = i;
      }
    }
    assertTrue(answer >= 0, "no answer to #2: " + transport.wire);
    assertEquals("close 1001", transport.wire.get(transport.wire.size() - 1));
    assertTrue(answer < transport.wire.size() - 1);
  }

  @Test
  void anRpcThatIsNeverAnsweredHoldsItsSocketUntilAckTimeoutAfterItsTurn() {
    server(Map.of("drainTime", "1000", "ackTimeout", "2000"));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    socket.receive("{\"event\":\"nobodyListens\",\"cid\":2}");
    long t0 = clock.millis();

    server.drain();
    await(socket::inDrainTurn);
    clock.set(t0 + 1999);
    socket.receive("{\"event\":\"#handshake\",\"cid\":3}");
    await(() -> answered(transport, 3));
    assertNull(transport.closeCode, "closed before its deadline");
    clock.set(t0 + 2000);
    await(() -> transport.closeCode != null);
    assertEquals(CloseCodes.GOING_AWAY, transport.closeCode);
  }

  @Test
  void anInvokeOfTheServerWaitingForItsAcknowledgementGetsIt() {
    server(Map.of("drainTime", "1000", "ackTimeout", "5000"));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    var result = socket.invoke("ask", 1).toCompletableFuture();
    Object cid = ((Map<?, ?>) JsonCodec.instance().decode(transport.packets().get(transport.packets().size() - 1)))
        .get("cid");

    server.drain();
    await(socket::inDrainTurn);
    assertNull(transport.closeCode);
    socket.receive("{\"rid\":" + cid + ",\"data\":\"yes\"}");
    assertEquals("yes", result.join());
    await(() -> transport.closeCode != null);
    assertEquals(CloseCodes.GOING_AWAY, transport.closeCode);
  }

  @Test
  void answersRacingTheTurnsAlwaysGoOutBeforeTheCloseAndEverySocketCloses() throws Exception {
    server(Map.of("drainTime", "0", "ackTimeout", "60000"));
    int count = 200;
    List<FakeTransport> transports = new ArrayList<>();
    List<AGRequest> requests = new CopyOnWriteArrayList<>();
    for (int i = 0; i < count; i++) {
      FakeTransport transport = new FakeTransport();
      AGServerSocket socket = handshaken(transport);
      socket.procedure("held").consume(requests::add);
      socket.receive("{\"event\":\"held\",\"cid\":2}");
      transports.add(transport);
    }
    assertEquals(count, requests.size());
    ExecutorService answerers = Executors.newFixedThreadPool(4);
    try {
      CountDownLatch start = new CountDownLatch(1);
      for (AGRequest request : requests) {
        answerers.execute(() -> {
          try {
            start.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          request.end("ok");
        });
      }
      server.drain();
      start.countDown();
      await(() -> transports.stream().allMatch(t -> t.closeCode != null));
    } finally {
      answerers.shutdown();
      assertTrue(answerers.awaitTermination(10, TimeUnit.SECONDS));
    }
    for (FakeTransport transport : transports) {
      List<String> wire = transport.wire;
      assertEquals("close 1001", wire.get(wire.size() - 1), "wire: " + wire);
      assertTrue(answered(transport, 2), "no answer before the close: " + wire);
    }
  }
}
