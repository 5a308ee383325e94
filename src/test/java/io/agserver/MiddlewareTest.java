package io.agserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.agserver.config.AGServerOptions;
import io.agserver.event.AGSocketEvent;
import io.agserver.middleware.AGMiddleware;
import io.agserver.middleware.HandshakeMiddleware;
import io.agserver.middleware.InboundMiddleware;
import io.agserver.middleware.InboundRawMiddleware;
import io.agserver.middleware.OutboundMiddleware;
import io.agserver.protocol.AGError;
import io.agserver.codec.JsonCodec;

/** The middleware lines: chains, transforms, blocks, late decisions and ordering. */
class MiddlewareTest {

  private AGServer server;
  private final Map<AGMiddleware, Integer> priorities = new java.util.IdentityHashMap<>();

  @AfterEach
  void close() {
    if (server != null) {
      server.close();
    }
  }

  private AGServer server(AGMiddleware... beans) {
    server = new AGServer(AGServerOptions.from(key -> Optional.empty()), null, null, null);
    server.setMiddlewareBeans(List.of(beans), bean -> priorities.getOrDefault(bean, AGMiddleware.DEFAULT_PRIORITY));
    return server;
  }

  private <M extends AGMiddleware> M priority(int value, M bean) {
    priorities.put(bean, value);
    return bean;
  }

  private AGServerSocket connect(FakeTransport transport) {
    AGServerSocket socket = server.accept(transport, new AGUpgradeRequest(
        URI.create("ws://localhost/socketcluster/?a=1"), Map.of(), Map.of("a", List.of("1")), "127.0.0.1", 1, false));
    socket.receive("{\"event\":\"#handshake\",\"cid\":1}");
    return socket;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> packet(FakeTransport transport, int index) {
    return (Map<String, Object>) JsonCodec.instance().decode(transport.packets().get(index));
  }

  @Test
  void beansRunInPriorityOrderAndTransformInTurn() {
    List<String> order = new CopyOnWriteArrayList<>();
    InboundMiddleware second = action -> {
      order.add("second:" + action.data());
      action.allow(action.data() + "-b");
      return null;
    };
    InboundMiddleware first = action -> {
      order.add("first:" + action.data());
      action.allow(action.data() + "-a");
      return null;
    };
    server(priority(20, second), priority(10, first));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = connect(transport);
    List<Object> received = new CopyOnWriteArrayList<>();
    socket.receiver("r").consume(received::add);
    socket.receive("{\"event\":\"r\",\"data\":\"x\"}");
    assertEquals(List.of("first:x", "second:x-a"), order);
    assertEquals(List.of("x-a-b"), received);
  }

  @Test
  void aBlockEndsTheChainAndAnswersRpcsWithTheError() {
    List<String> reached = new CopyOnWriteArrayList<>();
    InboundMiddleware blocker = action -> {
      action.block(new AGError("NopeError", "no").with("code", 7));
      return null;
    };
    InboundMiddleware after = action -> {
      reached.add("after");
      return null;
    };
    server(priority(1, blocker), priority(2, after));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = connect(transport);
    List<Object> errors = new CopyOnWriteArrayList<>();
    socket.<AGSocketEvent.Error>listener("error").consume(e -> errors.add(e.error()));
    socket.receive("{\"event\":\"proc\",\"cid\":2,\"data\":1}");
    assertEquals(Map.of("rid", 2, "error", Map.of("message", "no", "name", "NopeError", "code", 7)), packet(transport, 1));
    assertTrue(reached.isEmpty());
    assertEquals(1, errors.size(), "middlewareEmitFailures emits the error on the socket");
    socket.receive("{\"event\":\"rec\",\"data\":1}");
    assertEquals(2, transport.packets().size(), "a blocked transmit is silent");
  }

  @Test
  void aBlockWithoutErrorIsASilentMiddlewareBlockedErrorNamingTheLine() {
    server((InboundMiddleware) action -> {
      action.block();
      return null;
    });
    FakeTransport transport = new FakeTransport();
    connect(transport).receive("{\"event\":\"#publish\",\"cid\":2,\"data\":{\"channel\":\"c\",\"data\":1}}");
    Map<?, ?> error = (Map<?, ?>) packet(transport, 1).get("error");
    assertEquals("SilentMiddlewareBlockedError", error.get("name"));
    assertEquals("inbound", error.get("type"));
    assertEquals("The publishIn AGAction was blocked by inbound middleware", error.get("message"));
  }

  @Test
  void anUndecidedBeanAllowsAndAFailedStageBlocks() {
    server((InboundMiddleware) action -> "fails".equals(action.procedure())
        ? CompletableFuture.failedFuture(new AGError("StageError", "stage failed"))
        : CompletableFuture.completedFuture(null));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = connect(transport);
    socket.procedure("ok").consume(request -> request.end("fine"));
    socket.receive("{\"event\":\"ok\",\"cid\":2}");
    socket.receive("{\"event\":\"fails\",\"cid\":3}");
    assertEquals("fine", packet(transport, 1).get("data"));
    assertEquals("StageError", ((Map<?, ?>) packet(transport, 2).get("error")).get("name"));
  }

  @Test
  void decidingTwiceIsAnInvalidAction() {
    AGAction action = AGAction.builder(AGAction.INVOKE).procedure("p").build();
    action.allow();
    AGError error = assertThrows(AGError.class, action::block);
    assertEquals("InvalidActionError", error.name());
    assertEquals("AGAction invoke has already been allowed; cannot block", error.getMessage());
  }

  @Test
  void inboundRawSeesEveryMessageFirstAndCanDropOrReplaceIt() {
    server((InboundRawMiddleware) action -> {
      if ("drop-me".equals(action.data())) {
        action.block();
      } else if ("swap".equals(action.data())) {
        action.allow("{\"event\":\"r\",\"data\":\"swapped\"}");
      }
      return null;
    });
    FakeTransport transport = new FakeTransport();
    AGServerSocket pending = server.accept(transport, new AGUpgradeRequest(
        URI.create("ws://localhost/"), Map.of(), Map.of(), null, null, false));
    pending.receive("drop-me");
    assertEquals(null, transport.closeCode, "dropped before the strict-handshake rule");
    pending.receive("{\"event\":\"#handshake\",\"cid\":1}");
    List<Object> received = new CopyOnWriteArrayList<>();
    pending.receiver("r").consume(received::add);
    pending.receive("swap");
    assertEquals(List.of("swapped"), received);
  }

  @Test
  void handshakeScBlockClosesWithTheErrorsStatusCode() {
    server((HandshakeMiddleware) action -> {
      if (action.type().equals(AGAction.HANDSHAKE_SC)) {
        action.block(new AGError("HandshakeRejected", "Rejected").with("statusCode", 4501));
      }
      return null;
    });
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = connect(transport);
    Map<?, ?> error = (Map<?, ?>) packet(transport, 0).get("error");
    assertEquals("HandshakeRejected", error.get("name"));
    assertEquals(4501, transport.closeCode);
    assertEquals(AGServerSocket.CLOSED, socket.state());
    assertEquals(0, server.pendingClientsCount() + server.clientsCount());
  }

  @Test
  void handshakeScBlockWithoutStatusCodeCloses4008() {
    server((HandshakeMiddleware) action -> {
      action.block(new AGError("No", "no"));
      return null;
    });
    FakeTransport transport = new FakeTransport();
    connect(transport);
    assertEquals(4008, ((Map<?, ?>) packet(transport, 0).get("error")).get("statusCode"));
    assertEquals(4008, transport.closeCode);
  }

  @Test
  void handshakeWsRunsOnTheUpgradeRequest() throws Exception {
    server((HandshakeMiddleware) action -> {
      if (action.type().equals(AGAction.HANDSHAKE_WS) && action.request().queryParam("reject").isPresent()) {
        action.block();
      }
      return null;
    });
    AGUpgradeRequest ok = new AGUpgradeRequest(URI.create("ws://h/"), Map.of(), Map.of(), null, null, false);
    AGUpgradeRequest refused = new AGUpgradeRequest(URI.create("ws://h/?reject=1"), Map.of(),
        Map.of("reject", List.of("1")), null, null, false);
    server.connections().verifyHandshake(ok).toCompletableFuture().get(1, TimeUnit.SECONDS);
    var failure = assertThrows(java.util.concurrent.ExecutionException.class,
        () -> server.connections().verifyHandshake(refused).toCompletableFuture().get(1, TimeUnit.SECONDS));
    assertEquals("SilentMiddlewareBlockedError", ((AGError) failure.getCause()).name());
  }

  @Test
  void outboundTransformsAndBlocksPerSocket() {
    server((OutboundMiddleware) action -> {
      if ("bad".equals(action.data())) {
        action.allow("***");
      } else if ("hidden".equals(action.data()) && action.socket().request().queryParam("see").isEmpty()) {
        action.block();
      }
      return null;
    });
    FakeTransport transport = new FakeTransport();
    connect(transport).receive("{\"event\":\"#subscribe\",\"cid\":2,\"data\":{\"channel\":\"c\"}}");
    server.exchange().transmitPublish("c", "bad");
    server.exchange().transmitPublish("c", "hidden");
    server.exchange().transmitPublish("c", "good");
    List<String> packets = transport.packets();
    assertEquals(4, packets.size());
    assertEquals("{\"event\":\"#publish\",\"data\":{\"channel\":\"c\",\"data\":\"***\"}}", packets.get(2));
    assertEquals("{\"event\":\"#publish\",\"data\":{\"channel\":\"c\",\"data\":\"good\"}}", packets.get(3));
  }

  @Test
  void authenticateCanBeBlocked() {
    server((InboundMiddleware) action -> {
      if (action.type().equals(AGAction.AUTHENTICATE)) {
        action.block(new AGError("BannedError", "banned"));
      }
      return null;
    });
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = connect(transport);
    socket.setAuthToken(Map.of("username", "x")).toCompletableFuture().join();
    String token = socket.signedAuthToken();
    socket.receive("{\"event\":\"#authenticate\",\"cid\":5,\"data\":\"" + token + "\"}");
    Map<String, Object> answer = packet(transport, transport.packets().size() - 1);
    assertEquals(5, answer.get("rid"));
    assertTrue(String.valueOf(answer).contains("BannedError"), String.valueOf(answer));
  }

  @Test
  void lateDecisionsKeepOneSocketsOrderAndNeverDelayAnother() throws Exception {
    server((InboundMiddleware) action -> {
      if (!"slow".equals(action.socket().request().queryParam("who").orElse(""))) {
        return null;
      }
      CompletableFuture<Void> later = new CompletableFuture<>();
      CompletableFuture.delayedExecutor(ThreadLocalRandom.current().nextInt(0, 3), TimeUnit.MILLISECONDS)
          .execute(() -> {
            action.allow();
            later.complete(null);
          });
      return later;
    });
    FakeTransport slowTransport = new FakeTransport();
    AGServerSocket slow = server.accept(slowTransport, new AGUpgradeRequest(URI.create("ws://h/?who=slow"),
        Map.of(), Map.of("who", List.of("slow")), null, null, false));
    slow.receive("{\"event\":\"#handshake\",\"cid\":1}");
    FakeTransport fastTransport = new FakeTransport();
    AGServerSocket fast = connect(fastTransport);
    List<Object> slowSeen = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> allSlow = new CompletableFuture<>();
    slow.receiver("n").consume(value -> {
      slowSeen.add(value);
      if (slowSeen.size() == 1000) {
        allSlow.complete(null);
      }
    });
    List<Object> fastSeen = new CopyOnWriteArrayList<>();
    fast.receiver("n").consume(fastSeen::add);
    for (int i = 0; i < 1000; i++) {
      slow.receive("{\"event\":\"n\",\"data\":" + i + "}");
    }
    fast.receive("{\"event\":\"n\",\"data\":\"fast\"}");
    assertEquals(List.of("fast"), fastSeen, "the other socket is not delayed");
    assertTrue(slowSeen.size() < 1000, "the slow socket is still working through its messages");
    allSlow.get(30, TimeUnit.SECONDS);
    List<Object> expected = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      expected.add(i);
    }
    assertEquals(expected, slowSeen);
  }

  @Test
  void setMiddlewareKeepsTheOriginalsOneFunctionPerLineRule() {
    server();
    server.setMiddleware(AGServer.MIDDLEWARE_INBOUND, stream -> stream.consume(AGAction::allow));
    assertTrue(server.hasMiddleware(AGServer.MIDDLEWARE_INBOUND));
    AGError twice = assertThrows(AGError.class,
        () -> server.setMiddleware(AGServer.MIDDLEWARE_INBOUND, stream -> {}));
    assertEquals("Middleware inbound type has already been set", twice.getMessage());
    AGError unknown = assertThrows(AGError.class, () -> server.setMiddleware("sideways", stream -> {}));
    assertEquals("InvalidArgumentsError", unknown.name());
    server.removeMiddleware(AGServer.MIDDLEWARE_INBOUND);
    assertEquals(false, server.hasMiddleware(AGServer.MIDDLEWARE_INBOUND));
  }

  @Test
  void aSetMiddlewareFunctionRunsAfterTheBeans() {
    List<String> order = new CopyOnWriteArrayList<>();
    server((InboundMiddleware) action -> {
      order.add("bean");
      return null;
    });
    server.setMiddleware(AGServer.MIDDLEWARE_INBOUND, stream -> stream.consume(action -> {
      order.add("function");
      action.allow(((String) action.data()).toUpperCase());
    }));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = connect(transport);
    List<Object> received = new CopyOnWriteArrayList<>();
    socket.receiver("r").consume(received::add);
    socket.receive("{\"event\":\"r\",\"data\":\"x\"}");
    assertEquals(List.of("bean", "function"), order);
    assertEquals(List.of("X"), received);
  }
}
