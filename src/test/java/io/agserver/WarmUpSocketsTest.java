package io.agserver;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.agserver.core.ServerStatus;
import io.agserver.core.WarmUpGate;
import io.agserver.event.AGHandshakeEvent;
import io.agserver.event.AGReadyEvent;
import io.agserver.middleware.InboundMiddleware;
import io.agserver.pubsub.ChannelFeatures;

/**
 * The server's own warm-up sockets (README, "Warm start") take the same paths as a client's but
 * reach no application code: no middleware, no server event, not among the clients; and only
 * while a warm-up lets them in, with its key.
 */
class WarmUpSocketsTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private final List<Object> events = new CopyOnWriteArrayList<>();
  private final AtomicInteger middlewareCalls = new AtomicInteger();
  private AGServer server;
  private ServerStatus status;

  @AfterEach
  void close() {
    if (server != null) {
      server.close();
    }
  }

  private void start() {
    server = new AGServer(TestServers.options(Map.of("allowClientPublish", "true")), null, events::add, null);
    status = server.status();
    // Application middleware on every line: none of it may see a warm-up socket.
    server.setMiddleware(AGServer.MIDDLEWARE_HANDSHAKE, actions -> actions.consume(action -> {
      middlewareCalls.incrementAndGet();
      action.allow();
    }));
    server.setMiddleware(AGServer.MIDDLEWARE_INBOUND_RAW, actions -> actions.consume(action -> {
      middlewareCalls.incrementAndGet();
      action.allow();
    }));
    server.setMiddlewareBeans(List.of((InboundMiddleware) action -> {
      middlewareCalls.incrementAndGet();
      action.allow();
      return null;
    }), bean -> 0);
  }

  private static AGUpgradeRequest request(String key) {
    Map<String, List<String>> headers = key == null ? Map.of() : Map.of(WarmUpGate.HEADER, List.of(key));
    return new AGUpgradeRequest(URI.create("ws://127.0.0.1/socketcluster/"), headers, Map.of(), "127.0.0.1", 5555, false);
  }

  /** The server's events but its own ready: warnings of a warm-up socket are only logged. */
  private static List<Object> applicationEvents(List<Object> events) {
    return events.stream().filter(e -> !(e instanceof AGReadyEvent)).toList();
  }

  @Test
  void aWarmUpSocketRunsTheProtocolWithoutMiddlewareEventsOrACountAmongClients() {
    start();
    List<AGServerSocket> connected = new CopyOnWriteArrayList<>();
    String key = status.warmUpGate().open(socket -> {
      connected.add(socket);
      socket.procedure("work").consume(request -> request.end(request.data()));
    });
    AGUpgradeRequest upgrade = request(key);
    assertTrue(server.connections().isWarmUp(upgrade));

    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = server.accept(transport, upgrade);
    socket.receive("{\"event\":\"#handshake\",\"data\":{\"authToken\":null},\"cid\":1}");
    await().atMost(WAIT).until(() -> connected.contains(socket));
    String channel = ChannelFeatures.WARM_UP_PREFIX + "test";
    socket.receive("{\"event\":\"#subscribe\",\"data\":{\"channel\":\"" + channel + "\"},\"cid\":2}");
    socket.receive("{\"event\":\"work\",\"data\":{\"n\":1},\"cid\":3}");
    socket.receive("{\"event\":\"#publish\",\"data\":{\"channel\":\"" + channel + "\",\"data\":\"x\"},\"cid\":4}");
    await().atMost(WAIT).until(() -> transport.texts.stream().anyMatch(t -> t.contains("\"rid\":4")));
    assertTrue(transport.texts.stream().anyMatch(t -> t.contains("\"rid\":3") && t.contains("\"n\":1")), transport.texts.toString());
    await().atMost(WAIT).until(() -> transport.texts.stream().anyMatch(t -> t.contains("\"event\":\"#publish\"")));

    assertEquals(AGServerSocket.OPEN, socket.state());
    assertEquals(0, middlewareCalls.get(), "middleware saw the warm-up socket");
    assertEquals(List.of(), applicationEvents(events), "server events of a warm-up socket");
    assertEquals(0, server.clientsCount());
    assertEquals(0, server.pendingClientsCount());
    assertEquals(1, status.warmUpSocketsCount());

    // The end of the warm-up closes what is still open, and its key lets nothing in any more.
    status.closeWarmUp();
    assertEquals(AGServerSocket.CLOSED, socket.state());
    assertEquals(0, status.warmUpSocketsCount());
    assertFalse(server.connections().isWarmUp(upgrade));
    assertEquals(List.of(), applicationEvents(events), "server events of a warm-up socket's close");
  }

  @Test
  void withoutAWarmUpUnderWayItsHeaderMakesAnOrdinaryClient() {
    start();
    String key = status.warmUpGate().open(socket -> {});
    status.closeWarmUp();
    AGServerSocket socket = server.accept(new FakeTransport(), request(key));
    socket.receive("{\"event\":\"#handshake\",\"cid\":1}");
    await().atMost(WAIT).until(() -> server.clientsCount() == 1);
    assertTrue(events.stream().anyMatch(AGHandshakeEvent.class::isInstance));
    assertTrue(middlewareCalls.get() > 0);
    assertEquals(0, status.warmUpSocketsCount());
  }

  @Test
  void aWrongKeyMakesAnOrdinaryClient() {
    start();
    status.warmUpGate().open(socket -> {});
    AGUpgradeRequest guessed = request("not-the-key");
    assertFalse(server.connections().isWarmUp(guessed));
    server.accept(new FakeTransport(), guessed).receive("{\"event\":\"#handshake\",\"cid\":1}");
    await().atMost(WAIT).until(() -> server.clientsCount() == 1);
    assertEquals(0, status.warmUpSocketsCount());
  }

  @Test
  void warmUpChannelsKeepNoHistoryAndTrackNoPresence() {
    start();
    server.keepHistory("*", new io.agserver.pubsub.HistoryOptions(10, Duration.ofMinutes(1)));
    server.trackPresence("*");
    assertTrue(server.channelFeatures().historyOf("news") != null);
    assertEquals(null, server.channelFeatures().historyOf(ChannelFeatures.WARM_UP_PREFIX + "a"));
    assertFalse(server.channelFeatures().tracksPresence(ChannelFeatures.WARM_UP_PREFIX + "a"));
  }
}
