package io.agserver.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.CloseReason;
import jakarta.websocket.ContainerProvider;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import jakarta.websocket.WebSocketContainer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The SocketCluster handshake and its timers against the running server (`mvn verify` starts
 * Liberty with the conformance WAR, APP.md options: pingInterval 1000, pingTimeout 3000,
 * handshakeTimeout 2000, and passes its URL as {@code agserver.url}).
 *
 * <p>Every expectation was checked against socketcluster-server 20.0.1 (ws 8.23.0) with the same
 * options: it closes with the bare code (an empty close reason on the wire) for 4001, 4005, 4008
 * and 4009.
 */
class HandshakeIT {

  static String url() {
    return RawWebSocket.url();
  }

  /** A real WebSocket client (Tyrus) gets the handshake response. */
  @Test
  void handshakeGetsIdPingTimeoutAndIsNotAuthenticated() throws Exception {
    BlockingQueue<String> received = new LinkedBlockingQueue<>();
    WebSocketContainer container = ContainerProvider.getWebSocketContainer();
    Session session =
        container.connectToServer(
            new Endpoint() {
              @Override
              public void onOpen(Session s, EndpointConfig config) {
                s.addMessageHandler(String.class, (MessageHandler.Whole<String>) received::add);
              }
            },
            ClientEndpointConfig.Builder.create().build(),
            URI.create(url()));
    try {
      session.getBasicRemote().sendText("{\"event\":\"#handshake\",\"cid\":1}");

      Map<?, ?> response = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      List<String> others = new ArrayList<>();
      while (response == null) {
        long left = deadline - System.nanoTime();
        String text = left > 0 ? received.poll(left, TimeUnit.NANOSECONDS) : null;
        if (text == null) {
          fail("no response with \"rid\":1 within 10 s; other messages: " + others);
        }
        Object parsed = text.startsWith("{") ? Json.parse(text) : null;
        if (parsed instanceof Map<?, ?> m && Long.valueOf(1).equals(m.get("rid"))) {
          response = m;
        } else {
          others.add(text); // e.g. a ping ("" or "#1")
        }
      }

      assertEquals(Set.of("rid", "data"), response.keySet(), "keys of " + response);
      Map<?, ?> data = assertInstanceOf(Map.class, response.get("data"), "data of " + response);
      assertEquals(Set.of("id", "pingTimeout", "isAuthenticated"), data.keySet(), "keys of data " + response);
      Object id = data.get("id");
      assertInstanceOf(String.class, id, "data.id of " + response);
      assertTrue(((String) id).matches("[A-Za-z0-9_-]{20}"), "data.id like base64id's: " + response);
      assertEquals(3000L, data.get("pingTimeout"), "data.pingTimeout of " + response);
      assertEquals(Boolean.FALSE, data.get("isAuthenticated"), "data.isAuthenticated of " + response);
    } finally {
      if (session.isOpen()) {
        session.close(new CloseReason(CloseReason.CloseCodes.NORMAL_CLOSURE, "done"));
      }
    }
  }

  /** The original answers any numeric cid (also 1.5 or -1) and ignores a non-object data. */
  @ParameterizedTest
  @ValueSource(strings = {
      "{\"event\":\"#handshake\",\"cid\":7,\"data\":{}}",
      "{\"event\":\"#handshake\",\"cid\":7,\"data\":\"not an object\"}",
      "[{\"event\":\"#handshake\",\"cid\":7}]"})
  void handshakeVariantsTheOriginalAccepts(String packet) throws Exception {
    try (RawWebSocket ws = RawWebSocket.open()) {
      ws.sendText(packet);
      Map<?, ?> response = ws.awaitResponse(7, 5000);
      Map<?, ?> data = assertInstanceOf(Map.class, response.get("data"), "data of " + response);
      assertEquals(Boolean.FALSE, data.get("isAuthenticated"));
      // The socket is open: a call gets its answer.
      assertEquals("still here", ws.call("echo", "still here"));
    }
  }

  /** #handshake without a numeric cid: InvalidActionError on the server, close 4008. */
  @ParameterizedTest
  @ValueSource(strings = {
      "{\"event\":\"#handshake\"}",
      "{\"event\":\"#handshake\",\"cid\":\"1\"}",
      "{\"event\":\"#handshake\",\"data\":{},\"cid\":null}"})
  void handshakeWithoutNumericCidClosesWith4008(String packet) throws Exception {
    try (RawWebSocket ws = RawWebSocket.open()) {
      ws.sendText(packet);
      RawWebSocket.Frame close = ws.awaitClose(1500);
      assertEquals(4008, close.code(), "close of " + packet + ": " + close);
      assertEquals("", close.reason(), "the original sends no close reason");
    }
  }

  /** Strict handshake: any message but #handshake before it closes with 4009, a pong '' too. */
  @ParameterizedTest
  @ValueSource(strings = {
      "", // the pong
      "#1",
      "#2",
      " ",
      "hello",
      "{bad json",
      "123",
      "null",
      "{\"foo\":1}",
      "{\"rid\":5}",
      "{\"event\":\"echo\",\"data\":1,\"cid\":2}",
      "{\"event\":\"bounce\",\"data\":1}",
      "{\"event\":\"#subscribe\",\"data\":{\"channel\":\"x\"},\"cid\":2}",
      "[{\"event\":\"echo\",\"cid\":2},{\"event\":\"#handshake\",\"cid\":1}]"})
  void anythingBeforeTheHandshakeClosesWith4009(String message) throws Exception {
    try (RawWebSocket ws = RawWebSocket.open()) {
      ws.sendText(message);
      RawWebSocket.Frame close = ws.awaitClose(1500);
      assertEquals(4009, close.code(), "close after '" + message + "': " + close);
      assertEquals("", close.reason(), "the original sends no close reason");
      assertTrue(ws.seen().stream().noneMatch(f -> f.isText() && !f.isPing()),
          "nothing but pings before the close: " + ws.seen());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"hello", ""})
  void binaryMessageBeforeTheHandshakeClosesWith4009(String message) throws Exception {
    try (RawWebSocket ws = RawWebSocket.open()) {
      ws.sendBinary(message.getBytes(StandardCharsets.UTF_8));
      RawWebSocket.Frame close = ws.awaitClose(1500);
      assertEquals(4009, close.code(), "close: " + close);
      assertEquals("", close.reason());
    }
  }

  /**
   * An empty batch is no message at all: the socket waits for its handshake until 4005. The
   * server's own pings tell the time: they go out before the handshake too (the original pings
   * every pingInterval, 1000 ms, from the upgrade), so a close that came at once on the empty
   * batch, instead of after the handshakeTimeout (2000 ms), would come before any ping.
   */
  @Test
  void handshakeTimeoutClosesWith4005() throws Exception {
    try (RawWebSocket ws = RawWebSocket.open()) {
      ws.sendText("[]");
      RawWebSocket.Frame close = ws.awaitClose(30_000);
      assertEquals(4005, close.code(), "close: " + close);
      assertEquals("", close.reason(), "the original sends no close reason");
      List<RawWebSocket.Frame> before = ws.seen().subList(0, ws.seen().size() - 1);
      assertTrue(before.stream().anyMatch(RawWebSocket.Frame::isPing), "pings before 4005: " + ws.seen());
      assertTrue(before.stream().allMatch(RawWebSocket.Frame::isPing), "nothing but pings before 4005: " + ws.seen());
    }
  }

  /**
   * A client that stops answering: pings '' every pingInterval (1000 ms), then 4001 once
   * pingTimeout (3000 ms) passed without a message, so after at least two of those pings.
   */
  @Test
  void silentClientGetsPingsThenPongTimeout4001() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect()) {
      int from = ws.seen().size(); // after the handshake response
      RawWebSocket.Frame close = ws.awaitClose(30_000);
      List<RawWebSocket.Frame> after = ws.seen().subList(from, ws.seen().size());
      assertEquals(4001, close.code(), "close: " + close);
      assertEquals("", close.reason(), "the original sends no close reason");
      long pings = after.stream().filter(RawWebSocket.Frame::isPing).count();
      assertTrue(pings >= 2, "at least two pings before the pong timeout: " + after);
      assertTrue(after.stream().allMatch(f -> f.isPing() || f.isClose()),
          "nothing but pings and the close: " + after);
    }
  }

  /**
   * Answering every ping with '' keeps the socket open past pingTimeout. Five pings span four
   * pingIntervals (4 s) after the handshake, more than the pingTimeout (3 s) that a server
   * ignoring the answers would have closed the socket after: that close would come first.
   */
  @Test
  void answeringPingsKeepsTheSocketOpen() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect()) {
      for (int pongs = 0; pongs < 5; pongs++) {
        // Fails on a close ("connection closed before ping N").
        ws.await(RawWebSocket.Frame::isPing, 30_000, "ping " + (pongs + 1));
        ws.sendText("");
      }
      assertEquals("alive", ws.call("echo", "alive"));
    }
  }

  /** The server answers a client's close with the same code and reason (ws does). */
  @Test
  void clientCloseIsEchoed() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect()) {
      ws.sendClose(4444, "bye");
      RawWebSocket.Frame close = ws.awaitClose(2000);
      assertEquals(4444, close.code(), "close: " + close);
      assertEquals("bye", close.reason());
    }
  }

  @Test
  void jsonReaderReadsAHandshakeResponse() {
    Object v =
        Json.parse(
            "{\"rid\":1,\"data\":{\"id\":\"a\\\"b\",\"pingTimeout\":3000,"
                + "\"isAuthenticated\":false,\"x\":[1.5,null,true,{}]}}");
    Map<?, ?> m = assertInstanceOf(Map.class, v);
    assertEquals(1L, m.get("rid"));
    Map<?, ?> data = assertInstanceOf(Map.class, m.get("data"));
    assertEquals("a\"b", data.get("id"));
    assertEquals(3000L, data.get("pingTimeout"));
    assertEquals(Boolean.FALSE, data.get("isAuthenticated"));
    assertNotNull(data.get("x"));
    assertEquals("{\"a\":[1,\"x\\\"y\\n\",null,true]}",
        Json.write(Map.of("a", java.util.Arrays.asList(1, "x\"y\n", null, true))));
  }
}
