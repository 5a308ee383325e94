package io.agserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.agserver.config.AGServerOptions;
import io.agserver.event.AGClosureEvent;
import io.agserver.event.AGConnectionAbortEvent;
import io.agserver.event.AGConnectionEvent;
import io.agserver.event.AGDisconnectionEvent;
import io.agserver.event.AGHandshakeEvent;
import io.agserver.event.AGSocketEvent;
import io.agserver.event.AGWarningEvent;
import io.agserver.protocol.AGError;
import io.agserver.codec.JsonCodec;

/** The socket state machine against a recording transport: handshake, timers, RPC, closes. */
class AGServerSocketTest {

  private final List<Object> events = new CopyOnWriteArrayList<>();
  private AGServer server;

  private final TestClock clock = new TestClock();

  private AGServer server(Map<String, String> config) {
    AGServerOptions options = TestServers.options(config);
    server = new AGServer(options, null, events::add, null, null, clock);
    return server;
  }

  /** Moves the clock and runs the timer's round at once, as the timer thread would. */
  private void passes(long millis) {
    clock.advance(millis);
    server.sweep();
  }

  @AfterEach
  void close() {
    if (server != null) {
      server.close();
    }
  }

  private static AGUpgradeRequest request() {
    return TestServers.request();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> json(String text) {
    return (Map<String, Object>) JsonCodec.instance().decode(text);
  }

  private static void await(BooleanSupplier condition) {
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(condition::getAsBoolean);
  }

  private AGServerSocket handshaken(FakeTransport transport) {
    AGServerSocket socket = server.accept(transport, request());
    socket.receive("{\"event\":\"#handshake\",\"cid\":1}");
    return socket;
  }

  @Test
  void handshakeAnswersAndMovesTheSocketFromPendingToClients() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = server.accept(transport, request());
    assertEquals(1, server.pendingClientsCount());
    assertEquals(0, server.clientsCount());
    assertEquals(AGServerSocket.CONNECTING, socket.state());

    socket.receive("{\"event\":\"#handshake\",\"cid\":1,\"data\":{}}");

    Map<String, Object> response = json(transport.packets().get(0));
    assertEquals(List.of("rid", "data"), List.copyOf(response.keySet()));
    assertEquals(1, response.get("rid"));
    @SuppressWarnings("unchecked")
    Map<String, Object> data = (Map<String, Object>) response.get("data");
    assertEquals(List.of("id", "pingTimeout", "isAuthenticated"), List.copyOf(data.keySet()));
    assertEquals(socket.id(), data.get("id"));
    assertEquals(30000, data.get("pingTimeout"));
    assertEquals(false, data.get("isAuthenticated"));
    assertEquals(AGServerSocket.OPEN, socket.state());
    assertEquals(0, server.pendingClientsCount());
    assertEquals(1, server.clientsCount());
    assertInstanceOf(AGHandshakeEvent.class, events.get(1));
    AGConnectionEvent connection = assertInstanceOf(AGConnectionEvent.class, events.get(2));
    assertEquals(socket.id(), connection.id());
    assertFalse(connection.isAuthenticated());
  }

  @Test
  void idsLookLikeBase64Ids() {
    server(Map.of());
    String id = server.generateId();
    assertEquals(20, id.length());
    assertTrue(id.matches("[A-Za-z0-9_-]{20}"), id);
  }

  @Test
  void repeatedHandshakeIsAnsweredWithoutCountingTheSocketTwice() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    socket.receive("{\"event\":\"#handshake\",\"cid\":2}");
    assertEquals(2, json(transport.packets().get(1)).get("rid"));
    assertEquals(1, server.clientsCount());
    socket.disconnect();
    assertEquals(0, server.clientsCount());
  }

  @Test
  void handshakeWithoutCidIsRejectedWith4008() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = server.accept(transport, request());
    socket.receive("{\"event\":\"#handshake\"}");
    assertEquals(4008, transport.closeCode);
    assertEquals(AGServerSocket.CLOSED, socket.state());
    assertEquals(0, server.pendingClientsCount());
    AGConnectionAbortEvent abort = (AGConnectionAbortEvent) events.stream()
        .filter(AGConnectionAbortEvent.class::isInstance).findFirst().orElseThrow();
    assertEquals("Server rejected handshake from client", abort.reason());
    assertTrue(events.stream().anyMatch(e -> e instanceof AGWarningEvent w
        && w.warning() instanceof AGError err && err.name().equals("InvalidActionError")));
  }

  @Test
  void anythingBeforeTheHandshakeClosesWith4009() {
    server(Map.of());
    for (String message : List.of("{\"event\":\"echo\",\"cid\":1}", "hello", "{\"rid\":1}", "")) {
      FakeTransport transport = new FakeTransport();
      AGServerSocket socket = server.accept(transport, request());
      socket.receive(message);
      assertEquals(4009, transport.closeCode, message);
      assertEquals(AGServerSocket.CLOSED, socket.state());
    }
    assertEquals(0, server.pendingClientsCount());
  }

  @Test
  void withoutStrictHandshakeEarlyMessagesAreHandled() {
    server(Map.of("strictHandshake", "false"));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = server.accept(transport, request());
    CompletableFuture<Object> received = new CompletableFuture<>();
    socket.receiver("early").consume(received::complete);
    socket.receive("{\"event\":\"early\",\"data\":5}");
    assertEquals(5, received.getNow(null));
    assertNull(transport.closeCode);
  }

  @Test
  void handshakeTimeoutClosesWith4005() throws Exception {
    server(Map.of("handshakeTimeout", "100"));
    FakeTransport transport = new FakeTransport();
    server.accept(transport, request());
    passes(99);
    assertNull(transport.closeCode, "within the handshake timeout");
    passes(1);
    await(() -> transport.closeCode != null);
    assertEquals(4005, transport.closeCode);
    assertEquals(0, server.pendingClientsCount());
  }

  @Test
  void pingsAtTheIntervalAndClosesWith4001WithoutPongs() throws Exception {
    server(Map.of("pingInterval", "50", "pingTimeout", "400"));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    for (int elapsed = 0; elapsed < 350; elapsed += 50) {
      passes(50);
    }
    assertNull(transport.closeCode, "within the pong timeout");
    passes(50);
    await(() -> transport.closeCode != null);
    assertEquals(4001, transport.closeCode);
    assertTrue(transport.pings() >= 3, "pings: " + transport.pings());
    assertTrue(transport.texts.contains(""));
    AGDisconnectionEvent disconnection = (AGDisconnectionEvent) events.stream()
        .filter(AGDisconnectionEvent.class::isInstance).findFirst().orElseThrow();
    assertEquals("Client pong timed out", disconnection.reason());
    assertEquals(AGServerSocket.CLOSED, socket.state());
  }

  @Test
  void pongsKeepTheSocketAlive() throws Exception {
    server(Map.of("pingInterval", "50", "pingTimeout", "300"));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    for (int elapsed = 0; elapsed < 800; elapsed += 40) {
      socket.receive("");
      passes(40);
    }
    assertTrue(transport.pings() >= 10, "pings: " + transport.pings());
    assertNull(transport.closeCode);
    assertEquals(AGServerSocket.OPEN, socket.state());
  }

  @Test
  void protocolVersionOnePingsWithHashOne() throws Exception {
    server(Map.of("pingInterval", "50", "pingTimeout", "1000", "protocolVersion", "1"));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    passes(50);
    assertTrue(transport.texts.contains("#1"));
    for (int elapsed = 0; elapsed < 1500; elapsed += 40) {
      socket.receive("#2");
      passes(40);
    }
    assertNull(transport.closeCode, "#2 is the v1 pong");
  }

  @Test
  void procedureRequestsAreAnsweredAndTransmitsReachReceivers() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    socket.procedure("echo").consume(request -> {
      if (request.hasData()) {
        request.end(request.data());
      } else {
        request.end();
      }
    });
    List<Object> received = new CopyOnWriteArrayList<>();
    socket.receiver("note").consume(received::add);

    socket.receive("{\"event\":\"echo\",\"cid\":2,\"data\":{\"a\":[1,null]}}");
    socket.receive("{\"event\":\"echo\",\"cid\":3}");
    socket.receive("{\"event\":\"note\",\"data\":\"x\"}");
    socket.receive("{\"event\":\"note\"}");

    assertEquals("{\"rid\":2,\"data\":{\"a\":[1,null]}}", transport.packets().get(1));
    assertEquals("{\"rid\":3}", transport.packets().get(2));
    assertEquals(java.util.Arrays.asList("x", io.agserver.protocol.Undefined.INSTANCE), received);
  }

  @Test
  void answeringTwiceIsAnInvalidAction() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    CompletableFuture<AGError> second = new CompletableFuture<>();
    socket.procedure("twice").consume(request -> {
      request.end();
      second.complete(assertThrows(AGError.class, request::end));
    });
    socket.receive("{\"event\":\"twice\",\"cid\":2}");
    assertEquals("InvalidActionError", second.getNow(null).name());
  }

  @Test
  void batchesAreHandledPacketByPacket() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    List<Object> received = new CopyOnWriteArrayList<>();
    socket.receiver("n").consume(received::add);
    socket.receive("[{\"event\":\"n\",\"data\":1},{\"event\":\"n\",\"data\":2},{\"event\":\"n\",\"data\":3}]");
    assertEquals(List.of(1, 2, 3), received);
  }

  @Test
  void malformedMessagesBecomeRawEventsAndNeverClose() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    List<Object> raw = new CopyOnWriteArrayList<>();
    socket.<AGSocketEvent.Raw>listener("raw").consume(event -> raw.add(event.message()));
    for (String message : List.of("hello", "{bad json", "123", "{\"foo\":1}", "{\"event\":5}", "[1,2]", "null")) {
      socket.receive(message);
    }
    assertEquals(List.of("hello", "{bad json", "123", "{\"foo\":1}", "{\"event\":5}", "[1,2]", "[1,2]", "null"), raw);
    assertNull(transport.closeCode);
    assertEquals(AGServerSocket.OPEN, socket.state());
  }

  @Test
  void invokeCompletesWithTheClientsResponse() throws Exception {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    CompletableFuture<Object> result = socket.invoke("add", Map.of("a", 1)).toCompletableFuture();
    Map<String, Object> call = json(transport.packets().get(1));
    assertEquals(List.of("event", "cid", "data"), List.copyOf(call.keySet()));
    socket.receive("{\"rid\":" + call.get("cid") + ",\"data\":3}");
    assertEquals(3, result.get(1, TimeUnit.SECONDS));

    CompletableFuture<Object> failed = socket.invoke("boom").toCompletableFuture();
    Map<String, Object> call2 = json(transport.packets().get(2));
    assertFalse(call2.containsKey("data"));
    socket.receive("{\"rid\":" + call2.get("cid") + ",\"error\":{\"name\":\"ClientError\",\"message\":\"no\",\"x\":1}}");
    ExecutionException error = assertThrows(ExecutionException.class, () -> failed.get(1, TimeUnit.SECONDS));
    AGError cause = assertInstanceOf(AGError.class, error.getCause());
    assertEquals("ClientError", cause.name());
    assertEquals("no", cause.getMessage());
    assertEquals(1, cause.get("x"));
  }

  @Test
  void invokeTimesOutAfterAckTimeout() {
    server(Map.of("ackTimeout", "150"));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    CompletableFuture<Object> result = socket.invoke("never", null).toCompletableFuture();
    passes(149);
    assertFalse(result.isDone(), "within the ack timeout");
    passes(1);
    ExecutionException error = assertThrows(ExecutionException.class, () -> result.get(10, TimeUnit.SECONDS));
    assertEquals("TimeoutError", ((AGError) error.getCause()).name());
    assertEquals("Event response for never event timed out", error.getCause().getMessage());
  }

  @Test
  void pendingInvokesFailWithBadConnectionOnDisconnect() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    CompletableFuture<Object> result = socket.invoke("slow", 1).toCompletableFuture();
    socket.connection().closed(1006, "");
    ExecutionException error = assertThrows(ExecutionException.class, () -> result.get(1, TimeUnit.SECONDS));
    AGError cause = (AGError) error.getCause();
    assertEquals("BadConnectionError", cause.name());
    assertEquals("disconnect", cause.get("type"));
    assertEquals(1006, cause.get("code"));
    assertEquals("Socket hung up", cause.get("reason"));
  }

  @Test
  void transmitAndInvokeBeforeTheHandshakeFail() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = server.accept(transport, request());
    socket.transmit("x", 1);
    assertTrue(transport.packets().isEmpty());
    CompletableFuture<Object> result = socket.invoke("x", 1).toCompletableFuture();
    assertTrue(result.isCompletedExceptionally());
  }

  @Test
  void disconnectSendsQueuedFramesFirstThenCloses() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    transport.hold();
    socket.transmit("a", 1);
    socket.transmit("b", 2);
    socket.disconnect(4321, "bye");
    assertNull(transport.closeCode, "the close waits for the queued frames");
    assertEquals(AGServerSocket.CLOSED, socket.state());
    transport.release();
    assertEquals(4321, transport.closeCode);
    assertEquals("bye", transport.closeReason);
    assertEquals(3, transport.packets().size());
    AGClosureEvent closure = (AGClosureEvent) events.stream()
        .filter(AGClosureEvent.class::isInstance).findFirst().orElseThrow();
    assertEquals(4321, closure.code());
    assertEquals(0, server.clientsCount());
  }

  /** The frames that {@code sends} makes while the transport holds every send, once released. */
  private static List<String> framesSentWhileHeld(FakeTransport transport, Runnable sends) {
    int before = transport.texts.size();
    transport.hold();
    sends.run();
    transport.release();
    return transport.texts.subList(before, transport.texts.size());
  }

  @Test
  void packetsQueuedBehindASendLeaveTogetherAsOneArrayFrame() {
    server(Map.of("outboundCoalescing", "true"));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    List<String> frames = framesSentWhileHeld(transport, () -> {
      socket.transmit("a", 1);
      socket.transmit("b", 2);
      socket.transmit("c", 3);
      socket.send("raw text");
      socket.transmit("d", 4);
      socket.sendPing();
      socket.transmit("e", Map.of("k", "v"));
      socket.transmit("f", 6);
      assertEquals(8, socket.getOutboundBackpressure());
    });
    assertEquals(List.of(
        "{\"event\":\"a\",\"data\":1}",
        "[{\"event\":\"b\",\"data\":2},{\"event\":\"c\",\"data\":3}]",
        "raw text",
        "{\"event\":\"d\",\"data\":4}",
        "",
        "[{\"event\":\"e\",\"data\":{\"k\":\"v\"}},{\"event\":\"f\",\"data\":6}]"), frames);
    assertEquals(0, socket.getOutboundBackpressure());
    // A socket that keeps up gets every packet in its own frame, at once.
    socket.transmit("g", 7);
    socket.transmit("h", 8);
    assertEquals("{\"event\":\"h\",\"data\":8}", transport.texts.get(transport.texts.size() - 1));
  }

  @Test
  void byDefaultEveryPacketLeavesAloneAndBatchesAreNeverNested() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    assertEquals(List.of("{\"event\":\"a\",\"data\":1}", "{\"event\":\"b\",\"data\":2}",
        "{\"event\":\"c\",\"data\":3}"), framesSentWhileHeld(transport, () -> {
          socket.transmit("a", 1);
          socket.transmit("b", 2);
          socket.transmit("c", 3);
        }));
    server.close();

    // An array is a batch already: it is never nested in another.
    server(Map.of("outboundCoalescing", "true"));
    FakeTransport transport2 = new FakeTransport();
    AGServerSocket socket2 = handshaken(transport2);
    assertEquals(List.of("{\"event\":\"a\",\"data\":1}",
        "[{\"event\":\"b\",\"data\":2},{\"event\":\"c\",\"data\":3}]", "{\"event\":\"d\",\"data\":4}"),
        framesSentWhileHeld(transport2, () -> {
          socket2.transmit("a", 1);
          socket2.startBatch();
          socket2.transmit("b", 2);
          socket2.transmit("c", 3);
          socket2.flushBatch();
          socket2.transmit("d", 4);
        }));
  }

  @Test
  void outboundBackpressureCountsQueuedFramesAndSlowReadersAreCutOff() {
    server(Map.of("outboundBufferLimit", "1000"));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    transport.hold();
    socket.transmit("a", "x".repeat(100));
    socket.transmit("a", "x".repeat(100));
    assertEquals(2, socket.getOutboundBackpressure());
    for (int i = 0; i < 10; i++) {
      socket.transmit("a", "x".repeat(100));
    }
    assertEquals(1008, transport.closeCode);
    assertEquals(AGServerSocket.CLOSED, socket.state());
    assertEquals(0, server.clientsCount());
  }

  @Test
  void streamsAreKilledAfterDisconnectByDefaultAndClosedInCloseMode() throws Exception {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    CompletableFuture<Void> ended = socket.receiver("r").consume(v -> {}).done().toCompletableFuture();
    socket.disconnect();
    ended.get(1, TimeUnit.SECONDS);
    assertEquals(0, socket.getAllReceiversBackpressure());
    server.close();

    server(Map.of("socketStreamCleanupMode", "close"));
    FakeTransport transport2 = new FakeTransport();
    AGServerSocket socket2 = handshaken(transport2);
    List<Object> seen = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> finished = new CompletableFuture<>();
    var consumer = socket2.receiver("r").consumeAsync(v -> {
      seen.add(v);
      return finished;
    });
    socket2.receive("{\"event\":\"r\",\"data\":1}");
    socket2.receive("{\"event\":\"r\",\"data\":2}");
    socket2.disconnect();
    finished.complete(null);
    consumer.done().toCompletableFuture().get(1, TimeUnit.SECONDS);
    assertEquals(List.of(1, 2), seen, "close mode lets the backlog finish");
  }

  @Test
  void batchingSendsOneArrayFrame() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    socket.startBatch();
    socket.transmit("a", 1);
    socket.transmit("b", 2);
    assertEquals(1, transport.packets().size());
    socket.flushBatch();
    assertEquals("[{\"event\":\"a\",\"data\":1},{\"event\":\"b\",\"data\":2}]", transport.packets().get(1));
  }

  @Test
  void socketEventsFollowTheOriginalsOrder() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = server.accept(transport, request());
    List<String> seen = new CopyOnWriteArrayList<>();
    for (String name : List.of("connect", "disconnect", "close", "end", "message", "error")) {
      socket.listener(name).consume(event -> seen.add(name));
    }
    socket.receive("{\"event\":\"#handshake\",\"cid\":1}");
    socket.disconnect(4500, "custom");
    assertEquals(List.of("message", "connect", "disconnect", "close", "error", "end"), seen);
  }
}
