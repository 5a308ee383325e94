package io.agserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.agserver.codec.JsonCodec;
import io.agserver.event.AGDisconnectionEvent;
import io.agserver.event.AGSocketEvent;
import io.agserver.event.AGWarningEvent;
import io.agserver.protocol.AGError;

/**
 * socketcluster.rateLimit on sockets over a recording transport, on a clock the test moves: the
 * bucket, the RPC answer, dropped transmits and publishes with their warning, the flood close,
 * and what is never limited (pongs, responses, other sockets).
 */
class RateLimitTest {

  private final List<Object> events = new CopyOnWriteArrayList<>();
  private final TestClock clock = new TestClock();
  private AGServer server;

  @AfterEach
  void close() {
    if (server != null) {
      server.close();
    }
  }

  /** 10 messages a second, bursts of 3, plus {@code more}. */
  private AGServer server(Map<String, String> more) {
    Map<String, String> config = new HashMap<>(Map.of("rateLimit.messagesPerSecond", "10", "rateLimit.burst", "3"));
    config.putAll(more);
    server = new AGServer(TestServers.options(config), null, events::add, null, null, clock);
    return server;
  }

  /** Handshaken (one token taken) with an echo procedure and a receiver "note" that records. */
  private AGServerSocket socket(FakeTransport transport, List<Object> notes, List<Object> calls) {
    AGServerSocket socket = server.accept(transport, TestServers.request());
    socket.receive("{\"event\":\"#handshake\",\"cid\":1}");
    assertEquals(AGServerSocket.OPEN, socket.state());
    socket.procedure("echo").consume(request -> {
      calls.add(request.data());
      request.end(request.data());
    });
    socket.receiver("note").consume(notes::add);
    return socket;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> json(String text) {
    return (Map<String, Object>) JsonCodec.instance().decode(text);
  }

  private static String invoke(int cid, Object data) {
    return "{\"event\":\"echo\",\"cid\":" + cid + ",\"data\":" + data + "}";
  }

  /** The answer to {@code cid} among the packets sent, or null. */
  private static Map<String, Object> answer(FakeTransport transport, int cid) {
    return transport.packets().stream().map(RateLimitTest::json).filter(p -> Integer.valueOf(cid).equals(p.get("rid")))
        .findFirst().orElse(null);
  }

  private List<AGError> rateLimitWarnings() {
    return events.stream().filter(AGWarningEvent.class::isInstance).map(e -> ((AGWarningEvent) e).warning())
        .filter(w -> w instanceof AGError error && error.name().equals("RateLimitError")).map(AGError.class::cast)
        .toList();
  }

  @Test
  void anRpcBeyondTheBurstIsAnsweredWithRateLimitErrorAndNeverReachesItsProcedure() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    List<Object> calls = new CopyOnWriteArrayList<>();
    AGServerSocket socket = socket(transport, new CopyOnWriteArrayList<>(), calls);

    socket.receive(invoke(2, 2));
    socket.receive(invoke(3, 3));
    socket.receive(invoke(4, 4));

    assertEquals(List.of(2, 3), calls, "the handshake and two invokes: the burst of 3");
    assertEquals(2, answer(transport, 2).get("data"));
    Map<String, Object> refused = answer(transport, 4);
    @SuppressWarnings("unchecked")
    Map<String, Object> error = (Map<String, Object>) refused.get("error");
    assertEquals("RateLimitError", error.get("name"));
    assertEquals("Rate limit exceeded: 10 messages per second, bursts of 3", error.get("message"));
    assertEquals(List.of(), rateLimitWarnings(), "an RPC is told by its answer alone");
    assertEquals(0, socket.getInboundBackpressure(), "a refused message counts as handled");
    assertEquals(1, server.figures().rateLimitedMessages(), "the refusal is in the server's figures");
  }

  @Test
  void theBucketRefillsAtTheRateOnTheServersClock() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    List<Object> calls = new CopyOnWriteArrayList<>();
    AGServerSocket socket = socket(transport, new CopyOnWriteArrayList<>(), calls);
    for (int cid = 2; cid <= 5; cid++) {
      socket.receive(invoke(cid, cid));
    }
    assertEquals(List.of(2, 3), calls);
    clock.advance(99);
    socket.receive(invoke(6, 6));
    assertEquals(List.of(2, 3), calls, "99 ms at 10 a second: no token yet");
    clock.advance(1);
    socket.receive(invoke(7, 7));
    socket.receive(invoke(8, 8));
    assertEquals(List.of(2, 3, 7), calls, "one token in 100 ms");
    clock.advance(10_000);
    for (int cid = 9; cid <= 12; cid++) {
      socket.receive(invoke(cid, cid));
    }
    assertEquals(List.of(2, 3, 7, 9, 10, 11), calls, "a long pause earns the burst, no more");
  }

  @Test
  void aTransmitBeyondTheLimitIsDroppedWithAWarningAndAnErrorOnTheSocket() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    List<Object> notes = new CopyOnWriteArrayList<>();
    AGServerSocket socket = socket(transport, notes, new CopyOnWriteArrayList<>());
    List<Throwable> socketErrors = new CopyOnWriteArrayList<>();
    socket.<AGSocketEvent.Error>listener("error").consume(event -> socketErrors.add(event.error()));

    for (int n = 1; n <= 4; n++) {
      socket.receive("{\"event\":\"note\",\"data\":" + n + "}");
    }

    assertEquals(List.of(1, 2), notes);
    assertEquals(2, rateLimitWarnings().size());
    AGError warning = rateLimitWarnings().get(0);
    assertTrue(warning.getMessage().contains("'note' was dropped"), warning.getMessage());
    assertTrue(warning.getMessage().contains(socket.id()), warning.getMessage());
    assertEquals(rateLimitWarnings(), socketErrors);
    assertEquals(AGServerSocket.OPEN, socket.state());
    assertEquals(List.of(), transport.packets().subList(1, transport.packets().size()), "nothing is answered");
  }

  @Test
  void aPublishBeyondTheLimitIsDroppedOrAnsweredAndASubscribeIsAnRpcToo() {
    server(Map.of());
    FakeTransport subscriberTransport = new FakeTransport();
    AGServerSocket subscriber = socket(subscriberTransport, new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>());
    subscriber.receive("{\"event\":\"#subscribe\",\"cid\":2,\"data\":{\"channel\":\"news\"}}");
    org.awaitility.Awaitility.await().until(() -> subscriber.isSubscribed("news"));

    FakeTransport transport = new FakeTransport();
    AGServerSocket publisher = socket(transport, new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>());
    publisher.receive("{\"event\":\"#publish\",\"data\":{\"channel\":\"news\",\"data\":1}}");
    publisher.receive("{\"event\":\"#publish\",\"data\":{\"channel\":\"news\",\"data\":2}}");
    publisher.receive("{\"event\":\"#publish\",\"data\":{\"channel\":\"news\",\"data\":3}}");
    publisher.receive("{\"event\":\"#publish\",\"cid\":5,\"data\":{\"channel\":\"news\",\"data\":4}}");
    publisher.receive("{\"event\":\"#subscribe\",\"cid\":6,\"data\":{\"channel\":\"other\"}}");

    org.awaitility.Awaitility.await().until(() -> subscriberTransport.packets().stream()
        .filter(p -> p.contains("#publish")).count() == 2);
    assertEquals(List.of(1, 2), subscriberTransport.packets().stream().filter(p -> p.contains("#publish"))
        .map(p -> ((Map<?, ?>) json(p).get("data")).get("data")).toList());
    AGError dropped = rateLimitWarnings().get(0);
    assertTrue(dropped.getMessage().contains("'#publish' was dropped"), dropped.getMessage());
    assertEquals("RateLimitError", ((Map<?, ?>) answer(transport, 5).get("error")).get("name"));
    assertEquals("RateLimitError", ((Map<?, ?>) answer(transport, 6).get("error")).get("name"));
    assertFalse(publisher.isSubscribed("other"));
  }

  @Test
  void pongsAreNeverLimitedNorTakeATokenNorCloseTheSocket() {
    server(Map.of("rateLimit.closeAfter", "2"));
    FakeTransport transport = new FakeTransport();
    List<Object> calls = new CopyOnWriteArrayList<>();
    AGServerSocket socket = socket(transport, new CopyOnWriteArrayList<>(), calls);
    socket.receive(invoke(2, 2));
    socket.receive(invoke(3, 3));
    for (int i = 0; i < 100; i++) {
      socket.receive("");
    }
    assertEquals(AGServerSocket.OPEN, socket.state());
    assertEquals(List.of(), rateLimitWarnings());
    clock.advance(100);
    socket.receive(invoke(4, 4));
    assertEquals(List.of(2, 3, 4), calls, "the pongs took no token");
  }

  @Test
  void theAnswerToAServerInvokeIsHandledEvenWithoutAToken() throws Exception {
    server(Map.of("rateLimit.closeAfter", "1"));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = socket(transport, new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>());
    CompletableFuture<Object> result = socket.invoke("add", 1).toCompletableFuture();
    Object cid = json(transport.packets().get(1)).get("cid");
    socket.receive("{\"event\":\"note\"}");
    socket.receive("{\"event\":\"note\"}");
    socket.receive("{\"rid\":" + cid + ",\"data\":2}");
    assertEquals(2, result.get(1, TimeUnit.SECONDS));
    assertEquals(AGServerSocket.OPEN, socket.state(), "a response is not a refusal");
  }

  @Test
  void eachPacketOfABatchTakesAToken() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    List<Object> calls = new CopyOnWriteArrayList<>();
    AGServerSocket socket = socket(transport, new CopyOnWriteArrayList<>(), calls);
    socket.receive("[" + invoke(2, 2) + "," + invoke(3, 3) + "," + invoke(4, 4) + "," + invoke(5, 5) + "]");
    assertEquals(List.of(2, 3), calls);
    assertEquals("RateLimitError", ((Map<?, ?>) answer(transport, 4).get("error")).get("name"));
    assertEquals("RateLimitError", ((Map<?, ?>) answer(transport, 5).get("error")).get("name"));
    socket.receive("[" + invoke(6, 6) + "," + invoke(7, 7) + "]");
    assertNull(answer(transport, 6).get("data"), "a whole batch without a token");
    assertEquals("RateLimitError", ((Map<?, ?>) answer(transport, 7).get("error")).get("name"));
  }

  @Test
  void aRefusedMessageReachesNoMiddleware() {
    server(Map.of());
    List<Object> seen = new CopyOnWriteArrayList<>();
    server.setMiddleware(AGServer.MIDDLEWARE_INBOUND_RAW, actions -> actions.consume(action -> {
      seen.add(action.data());
      action.allow();
    }));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = socket(transport, new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>());
    List<Object> messages = new CopyOnWriteArrayList<>();
    socket.<AGSocketEvent.Message>listener("message").consume(event -> messages.add(event.message()));
    for (int cid = 2; cid <= 5; cid++) {
      socket.receive(invoke(cid, cid));
    }
    assertEquals(List.of(invoke(2, 2), invoke(3, 3)), seen.subList(1, seen.size()));
    assertEquals(List.of(invoke(2, 2), invoke(3, 3)), messages);
  }

  @Test
  void aSocketThatKeepsFloodingIsClosedWith1008() {
    server(Map.of("rateLimit.closeAfter", "5"));
    FakeTransport transport = new FakeTransport();
    List<Object> notes = new CopyOnWriteArrayList<>();
    AGServerSocket socket = socket(transport, notes, new CopyOnWriteArrayList<>());
    for (int n = 1; n <= 6; n++) {
      socket.receive("{\"event\":\"note\",\"data\":" + n + "}");
    }
    assertEquals(AGServerSocket.OPEN, socket.state(), "four refused");
    socket.receive("{\"event\":\"note\",\"data\":7}");

    assertEquals(AGServerSocket.CLOSED, socket.state());
    assertEquals(1008, transport.closeCode);
    assertEquals("Rate limit exceeded", transport.closeReason);
    AGDisconnectionEvent disconnection = (AGDisconnectionEvent) events.stream()
        .filter(AGDisconnectionEvent.class::isInstance).findFirst().orElseThrow();
    assertEquals(1008, disconnection.code());
    AGError closing = rateLimitWarnings().get(rateLimitWarnings().size() - 1);
    assertTrue(closing.getMessage().contains("was closed: 5 messages"), closing.getMessage());
    assertEquals(0, server.clientsCount());
    socket.receive("{\"event\":\"note\",\"data\":8}");
    assertEquals(List.of(1, 2), notes);
  }

  @Test
  void aClientThatPausesUntilItsBucketIsFullIsForgivenItsRefusals() {
    server(Map.of("rateLimit.closeAfter", "3"));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = socket(transport, new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>());
    for (int round = 0; round < 5; round++) {
      clock.advance(300);
      for (int n = 0; n < 5; n++) {
        socket.receive("{\"event\":\"note\"}");
      }
      assertEquals(AGServerSocket.OPEN, socket.state(), "round " + round + ": three taken, two refused");
    }
    clock.advance(200);
    socket.receive("{\"event\":\"note\"}");
    socket.receive("{\"event\":\"note\"}");
    assertEquals(AGServerSocket.OPEN, socket.state(), "two tokens back: not full");
    socket.receive("{\"event\":\"note\"}");
    assertEquals(AGServerSocket.CLOSED, socket.state(), "a third refusal without the pause that fills the bucket");
  }

  @Test
  void anotherSocketIsNeverSlowed() {
    server(Map.of("rateLimit.closeAfter", "5"));
    FakeTransport floodingTransport = new FakeTransport();
    AGServerSocket flooding = socket(floodingTransport, new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>());
    FakeTransport calmTransport = new FakeTransport();
    List<Object> calls = new CopyOnWriteArrayList<>();
    AGServerSocket calm = socket(calmTransport, new CopyOnWriteArrayList<>(), calls);
    for (int n = 0; n < 20; n++) {
      flooding.receive("{\"event\":\"note\"}");
    }
    assertEquals(AGServerSocket.CLOSED, flooding.state());
    calm.receive(invoke(2, 2));
    calm.receive(invoke(3, 3));
    assertEquals(List.of(2, 3), calls, "its own burst, untouched by the other's flood at the same instant");
    assertEquals(AGServerSocket.OPEN, calm.state());
  }

  @Test
  void withoutTheOptionNothingIsLimited() {
    server = new AGServer(TestServers.options(Map.of()), null, events::add, null, null, clock);
    FakeTransport transport = new FakeTransport();
    List<Object> calls = new CopyOnWriteArrayList<>();
    AGServerSocket socket = socket(transport, new CopyOnWriteArrayList<>(), calls);
    for (int cid = 2; cid < 1002; cid++) {
      socket.receive(invoke(cid, cid));
    }
    assertEquals(1000, calls.size());
    assertEquals(List.of(), rateLimitWarnings());
  }

  @Test
  void theErrorCrossesTheWireWithItsName() {
    AGError error = assertInstanceOf(AGError.class, AGError.rateLimit("x"));
    assertEquals(Map.of("message", "x", "name", "RateLimitError"), io.agserver.protocol.Errors.dehydrate(error));
  }
}
