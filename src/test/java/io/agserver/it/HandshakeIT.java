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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Smoke test against the running server (`mvn verify` starts Liberty with the conformance WAR
 * and passes its URL as the system property {@code agserver.url}): a raw {@code #handshake}
 * gets the SocketCluster handshake response.
 *
 * <p>Uses only the JDK, the Tyrus client and JUnit, so it does not depend on the code under test.
 */
class HandshakeIT {

  static String url() {
    return System.getProperty("agserver.url", "ws://127.0.0.1:9080/socketcluster/");
  }

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

      assertEquals(null, response.get("error"), "handshake error: " + response);
      Map<?, ?> data = assertInstanceOf(Map.class, response.get("data"), "data of " + response);
      Object id = data.get("id");
      assertInstanceOf(String.class, id, "data.id of " + response);
      assertTrue(!((String) id).isEmpty(), "data.id is empty: " + response);
      assertInstanceOf(Number.class, data.get("pingTimeout"), "data.pingTimeout of " + response);
      assertTrue(((Number) data.get("pingTimeout")).longValue() > 0, "pingTimeout: " + response);
      assertEquals(Boolean.FALSE, data.get("isAuthenticated"), "data.isAuthenticated of " + response);
    } finally {
      if (session.isOpen()) {
        session.close(new CloseReason(CloseReason.CloseCodes.NORMAL_CLOSURE, "done"));
      }
    }
  }

  /** A minimal JSON reader: objects, arrays, strings, numbers (Long or Double), booleans, null. */
  static final class Json {
    private final String s;
    private int i;

    private Json(String s) {
      this.s = s;
    }

    static Object parse(String text) {
      Json p = new Json(text);
      Object v = p.value();
      p.ws();
      if (p.i != text.length()) {
        throw p.error("trailing characters");
      }
      return v;
    }

    private Object value() {
      ws();
      if (i >= s.length()) {
        throw error("unexpected end");
      }
      char c = s.charAt(i);
      switch (c) {
        case '{':
          return object();
        case '[':
          return array();
        case '"':
          return string();
        case 't':
          return literal("true", Boolean.TRUE);
        case 'f':
          return literal("false", Boolean.FALSE);
        case 'n':
          return literal("null", null);
        default:
          return number();
      }
    }

    private Map<String, Object> object() {
      Map<String, Object> map = new LinkedHashMap<>();
      i++;
      ws();
      if (peek() == '}') {
        i++;
        return map;
      }
      while (true) {
        ws();
        String key = string();
        ws();
        expect(':');
        map.put(key, value());
        ws();
        if (peek() == ',') {
          i++;
        } else {
          expect('}');
          return map;
        }
      }
    }

    private List<Object> array() {
      List<Object> list = new ArrayList<>();
      i++;
      ws();
      if (peek() == ']') {
        i++;
        return list;
      }
      while (true) {
        list.add(value());
        ws();
        if (peek() == ',') {
          i++;
        } else {
          expect(']');
          return list;
        }
      }
    }

    private String string() {
      expect('"');
      StringBuilder b = new StringBuilder();
      while (true) {
        if (i >= s.length()) {
          throw error("unterminated string");
        }
        char c = s.charAt(i++);
        if (c == '"') {
          return b.toString();
        }
        if (c != '\\') {
          b.append(c);
          continue;
        }
        char e = s.charAt(i++);
        switch (e) {
          case 'b' -> b.append('\b');
          case 'f' -> b.append('\f');
          case 'n' -> b.append('\n');
          case 'r' -> b.append('\r');
          case 't' -> b.append('\t');
          case 'u' -> {
            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            i += 4;
          }
          default -> b.append(e);
        }
      }
    }

    private Object number() {
      int start = i;
      while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
        i++;
      }
      String n = s.substring(start, i);
      if (n.isEmpty()) {
        throw error("unexpected character");
      }
      if (n.contains(".") || n.contains("e") || n.contains("E")) {
        return Double.valueOf(n);
      }
      return Long.valueOf(n);
    }

    private Object literal(String word, Object v) {
      if (!s.startsWith(word, i)) {
        throw error("expected " + word);
      }
      i += word.length();
      return v;
    }

    private void expect(char c) {
      if (peek() != c) {
        throw error("expected '" + c + "'");
      }
      i++;
    }

    private char peek() {
      return i < s.length() ? s.charAt(i) : '\0';
    }

    private void ws() {
      while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
    }

    private IllegalArgumentException error(String what) {
      return new IllegalArgumentException(what + " at " + i + " in " + s);
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
  }
}
