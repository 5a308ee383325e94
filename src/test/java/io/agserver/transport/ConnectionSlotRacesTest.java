package io.agserver.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.websocket.CloseReason;
import jakarta.websocket.RemoteEndpoint;
import jakarta.websocket.Session;
import jakarta.websocket.server.HandshakeRequest;
import jakarta.websocket.server.ServerEndpointConfig;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.agserver.AGServer;
import io.agserver.AGServerSocket;
import io.agserver.TestAccess;
import io.agserver.config.AGServerOptions;
import io.agserver.core.Connections;
import io.agserver.event.AGHandshakeEvent;
import io.agserver.middleware.HandshakeMiddleware;
import io.agserver.ops.ConnectionLimits;
import io.agserver.TestClock;

/**
 * A connection's slot under the connection limits, from the upgrade filter through the
 * container's handshake hook to the socket, driven the way a container drives them: each way an
 * upgrade can end (refused by a limit, by middleware, by the origins, by the container before or
 * after its hook, dropped between the 101 and onOpen, opened before or after the filter returns,
 * closed from either side) leaves the count exact. A container here is a filter chain that does
 * what Liberty's and Tyrus's do: call the handshake hook on the filter's thread, answer, and
 * open the connection on the same or another thread.
 */
class ConnectionSlotRacesTest {

  private static final String PATH = "/socketcluster/";

  private final List<Object> events = new CopyOnWriteArrayList<>();
  private final TestClock clock = new TestClock(1_000_000);
  private final TransportThreads threads = new TransportThreads(null, 1, 5000);
  private AGServer server;
  private Connections connections;
  private UpgradeRequestFilter filter;
  private AGEndpointConfigurator configurator;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    threads.shutdown();
  }

  private void server(Map<String, String> config) {
    Map<String, String> all = new HashMap<>(Map.of("handshakeTimeout", "1000"));
    all.putAll(config);
    AGServerOptions options = AGServerOptions.from(key -> Optional.ofNullable(
        all.get(key.substring(AGServerOptions.PREFIX.length()))));
    server = new AGServer(options, null, events::add, null, null, clock);
    connections = TestAccess.connections(server);
    filter = new UpgradeRequestFilter(connections);
    configurator = new AGEndpointConfigurator(connections, threads, null);
  }

  private ConnectionLimits limits() {
    return TestAccess.connectionLimits(server);
  }

  private long handshakes() {
    return events.stream().filter(AGHandshakeEvent.class::isInstance).count();
  }

  // ---- a container, as the filter and the endpoint see it ----

  /** One upgrade: its request and response, the per-connection endpoint config, its session once open. */
  private final class Upgrade {
    final Map<String, List<String>> headers = new HashMap<>();
    final String address;
    final ServerEndpointConfig config = ServerEndpointConfig.Builder.create(AGEndpoint.class, PATH)
        .configurator(configurator).build();
    final Map<String, String> responseHeaders = new ConcurrentHashMap<>();
    final StringWriter body = new StringWriter();
    /** What the container took of the response before the filter ran: "stream", "writer" or null. */
    volatile String taken;
    volatile int status = 200;
    volatile boolean chainCalled;
    final List<CloseReason> closes = new CopyOnWriteArrayList<>();
    AGEndpoint endpoint;
    Session session;

    Upgrade(String address) {
      this.address = address;
      headers.put("Upgrade", List.of("websocket"));
    }

    Upgrade header(String name, String value) {
      headers.put(name, List.of(value));
      return this;
    }

    HttpServletRequest request() {
      return (HttpServletRequest) Proxy.newProxyInstance(getClass().getClassLoader(),
          new Class<?>[] {HttpServletRequest.class}, (proxy, method, args) -> switch (method.getName()) {
            case "getHeader" -> headers.getOrDefault((String) args[0], List.of()).stream().findFirst().orElse(null);
            case "getHeaders" -> Collections.enumeration(headers.getOrDefault((String) args[0], List.of()));
            case "getHeaderNames" -> Collections.enumeration(headers.keySet());
            case "getParameterMap" -> Map.of();
            case "getRequestURL" -> new StringBuffer("http://localhost" + PATH);
            case "getQueryString" -> null;
            case "getRemoteAddr" -> address;
            case "getRemotePort" -> 40000;
            case "isSecure" -> false;
            case "hashCode" -> System.identityHashCode(proxy);
            case "equals" -> proxy == args[0];
            default -> throw new UnsupportedOperationException(method.getName());
          });
    }

    HttpServletResponse response() {
      PrintWriter writer = new PrintWriter(body, true);
      return (HttpServletResponse) Proxy.newProxyInstance(getClass().getClassLoader(),
          new Class<?>[] {HttpServletResponse.class}, (proxy, method, args) -> switch (method.getName()) {
            case "setStatus" -> {
              status = (Integer) args[0];
              yield null;
            }
            case "getStatus" -> status;
            case "isCommitted" -> false;
            case "setHeader" -> {
              responseHeaders.put((String) args[0], (String) args[1]);
              yield null;
            }
            case "setContentType" -> {
              responseHeaders.put("Content-Type", (String) args[0]);
              yield null;
            }
            case "getWriter" -> {
              if ("stream".equals(taken)) {
                throw new IllegalStateException("getOutputStream() has already been called");
              }
              taken = "writer";
              yield writer;
            }
            case "getOutputStream" -> {
              if ("writer".equals(taken)) {
                throw new IllegalStateException("getWriter() has already been called");
              }
              taken = "stream";
              yield new ServletOutputStream() {
                @Override
                public void write(int b) {
                  body.write(b); // ASCII in these tests
                }

                @Override
                public boolean isReady() {
                  return true;
                }

                @Override
                public void setWriteListener(WriteListener listener) {
                  throw new UnsupportedOperationException();
                }
              };
            }
            case "hashCode" -> System.identityHashCode(proxy);
            case "equals" -> proxy == args[0];
            default -> throw new UnsupportedOperationException(method.getName());
          });
    }

    /** The container's handshake hook, on the filter's thread, as Liberty and Tyrus call it. */
    void hook() {
      HandshakeRequest request = (HandshakeRequest) Proxy.newProxyInstance(getClass().getClassLoader(),
          new Class<?>[] {HandshakeRequest.class}, (proxy, method, args) -> switch (method.getName()) {
            case "getRequestURI" -> URI.create(PATH);
            case "getQueryString" -> null;
            case "getHeaders" -> headers;
            case "getParameterMap" -> Map.of();
            default -> throw new UnsupportedOperationException(method.getName());
          });
      configurator.modifyHandshake(config, request, null);
    }

    /** The container opens the connection: its endpoint's onOpen. */
    void open() {
      RemoteEndpoint.Basic remote = (RemoteEndpoint.Basic) Proxy.newProxyInstance(getClass().getClassLoader(),
          new Class<?>[] {RemoteEndpoint.Basic.class}, (proxy, method, args) -> null);
      session = (Session) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Session.class},
          (proxy, method, args) -> switch (method.getName()) {
            case "getUserProperties" -> config.getUserProperties();
            case "getBasicRemote" -> remote;
            case "isOpen" -> closes.isEmpty();
            case "close" -> {
              closes.add((CloseReason) args[0]);
              yield null;
            }
            case "getRequestURI" -> URI.create(PATH);
            case "getRequestParameterMap" -> Map.of();
            case "isSecure" -> false;
            case "hashCode" -> System.identityHashCode(proxy);
            case "equals" -> proxy == args[0];
            case "toString" -> "Session[" + address + "]";
            default -> null; // buffer sizes, idle timeout, message handlers
          });
      endpoint = configurator.getEndpointInstance(AGEndpoint.class);
      endpoint.onOpen(session, config);
    }

    /** The connection ends: the container's onClose. */
    void closed(int code) {
      endpoint.onClose(session, new CloseReason(CloseReason.CloseCodes.getCloseCode(code), ""));
    }

    /** The filter with a container that does {@code container} when the request reaches it. */
    void run(FilterChain container) throws Exception {
      filter.doFilter(request(), response(), (request, response) -> {
        chainCalled = true;
        container.doFilter(request, response);
      });
    }

    /** Accepted: hook, 101, and (open) the connection opened before the filter returns. */
    Upgrade accepted(boolean open) throws Exception {
      run((request, response) -> {
        hook();
        ((HttpServletResponse) response).setStatus(101);
        if (open) {
          open();
        }
      });
      return this;
    }

    AGServerSocket socket() {
      return server.clients().values().stream().filter(s -> s.remoteAddress().equals(address)).findFirst()
          .orElseGet(() -> server.pendingClients().values().stream().filter(s -> s.remoteAddress().equals(address))
              .findFirst().orElse(null));
    }
  }

  // ---- refusals ----

  @Test
  void upgradesBeyondTheLimitsAreRefusedWith503Or429BeforeTheContainerSeesThem() throws Exception {
    server(Map.of("maxConnections", "2", "maxConnectionsPerAddress", "1"));
    new Upgrade("198.51.100.1").accepted(true);
    new Upgrade("198.51.100.2").accepted(true);
    assertEquals(2, handshakes());

    Upgrade full = new Upgrade("198.51.100.3");
    full.accepted(true);
    assertEquals(503, full.status);
    assertEquals("10", full.responseHeaders.get("Retry-After"));
    assertTrue(full.responseHeaders.get("Content-Type").startsWith("text/plain"));
    assertEquals("The server is full", full.body.toString());
    assertFalse(full.chainCalled, "the container never saw it");
    assertEquals(2, handshakes(), "no socket");
    assertEquals(2, limits().connections());

    new Upgrade("198.51.100.2").socket().disconnect();
    Upgrade sameAddress = new Upgrade("198.51.100.1");
    sameAddress.accepted(true);
    assertEquals(429, sameAddress.status);
    assertEquals("10", sameAddress.responseHeaders.get("Retry-After"));
    assertEquals("Too many connections from this address", sameAddress.body.toString());
    assertFalse(sameAddress.chainCalled);

    Upgrade other = new Upgrade("198.51.100.3");
    other.accepted(true);
    assertEquals(101, other.status, "the slot freed by the close");
    assertEquals(2, limits().connections());
  }

  @Test
  void behindAProxyTheAddressIsTheHeadersLastEntry() throws Exception {
    server(Map.of("maxConnectionsPerAddress", "1", "clientAddressHeader", "X-Forwarded-For"));
    new Upgrade("10.0.0.1").header("X-Forwarded-For", "203.0.113.5").accepted(true);
    Upgrade spoofed = new Upgrade("10.0.0.1").header("X-Forwarded-For", "192.0.2.44, 203.0.113.5");
    spoofed.accepted(true);
    assertEquals(429, spoofed.status, "what the client wrote before the proxy's entry changes nothing");
    Upgrade another = new Upgrade("10.0.0.1").header("X-Forwarded-For", "203.0.113.6");
    another.accepted(true);
    assertEquals(101, another.status);
    assertEquals(1, limits().connections("203.0.113.6"));
  }

  @Test
  void anUpgradeRefusedByMiddlewareFreesItsSlot() throws Exception {
    server(Map.of("maxConnections", "1"));
    server.setMiddlewareBeans(List.of((HandshakeMiddleware) action -> {
      action.block();
      return null;
    }), bean -> 0);
    Upgrade refused = new Upgrade("198.51.100.1");
    refused.accepted(true);
    assertEquals(401, refused.status);
    assertEquals(0, limits().connections());
  }

  @Test
  void anUpgradeRefusedForItsOriginFreesItsSlot() throws Exception {
    server(Map.of("maxConnections", "1", "origins", "https://example.com:443"));
    Upgrade refused = new Upgrade("198.51.100.1").header("Origin", "https://other.example");
    refused.accepted(true);
    assertEquals(403, refused.status);
    assertEquals(0, limits().connections());
  }

  /**
   * Payara, stopping, had taken the response's writer or stream of an upgrade before the filter
   * refused it (seen: getWriter threw IllegalStateException out of the filter, and Grizzly failed
   * the connection). The refusal's status and text still go out through whichever is left.
   */
  @Test
  void aRefusalAnswersWhateverTheContainerTookOfTheResponse() throws Exception {
    server(Map.of("maxConnections", "1", "origins", "https://example.com:443"));
    for (String taken : new String[] {"stream", "writer"}) {
      Upgrade refused = new Upgrade("198.51.100.1").header("Origin", "https://other.example");
      refused.taken = taken;
      refused.accepted(true);
      assertEquals(403, refused.status, taken);
      assertTrue(refused.body.toString().contains("Invalid origin"), taken + ": " + refused.body);
      assertEquals(0, limits().connections());
    }
  }

  @Test
  void anUpgradeTheContainerRefusesBeforeItsHookFreesItsSlot() throws Exception {
    server(Map.of("maxConnections", "1"));
    Upgrade refused = new Upgrade("198.51.100.1");
    refused.run((request, response) -> ((HttpServletResponse) response).setStatus(400));
    assertEquals(0, limits().connections());
  }

  @Test
  void anUpgradeTheContainerFailsAfterItsHookFreesItsSlot() throws Exception {
    server(Map.of("maxConnections", "1"));
    Upgrade failed = new Upgrade("198.51.100.1");
    failed.run((request, response) -> {
      failed.hook();
      ((HttpServletResponse) response).setStatus(500);
    });
    assertEquals(0, limits().connections());
    assertEquals(0, limits().awaitingOpen());
  }

  @Test
  void aContainerThatThrowsBeforeItsHookFreesTheSlot() throws Exception {
    server(Map.of("maxConnections", "1"));
    Upgrade failing = new Upgrade("198.51.100.1");
    assertThrows(IllegalStateException.class, () -> failing.run((request, response) -> {
      throw new IllegalStateException("container failure");
    }));
    assertEquals(0, limits().connections());
  }

  // ---- the connection opens, or does not ----

  @Test
  void aConnectionOpenedOnAnotherThreadBeforeTheFilterReturnsKeepsItsSlotUntilItCloses() throws Exception {
    server(Map.of("maxConnections", "1"));
    Upgrade upgrade = new Upgrade("198.51.100.1");
    upgrade.run((request, response) -> {
      upgrade.hook();
      ((HttpServletResponse) response).setStatus(101);
      Thread opener = new Thread(upgrade::open, "onOpen");
      opener.start();
      try {
        opener.join(10_000);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    });
    assertEquals(1, limits().connections());
    assertEquals(0, limits().awaitingOpen());
    TestAccess.receive(upgrade.socket(), "{\"event\":\"#handshake\",\"cid\":1}");
    clock.advance(5_000);
    TestAccess.sweep(server);
    assertEquals(AGServerSocket.OPEN, upgrade.socket().state());
    assertEquals(1, limits().connections(), "the socket's, past the time a slot waits for its connection");
    upgrade.closed(1000);
    assertEquals(0, limits().connections());
  }

  @Test
  void aConnectionThatOpensAfterTheFilterReturnedClaimsTheSlotItWasHanded() throws Exception {
    server(Map.of("maxConnections", "1"));
    Upgrade upgrade = new Upgrade("198.51.100.1").accepted(false);
    assertEquals(1, limits().connections());
    assertEquals(1, limits().awaitingOpen());
    Upgrade meanwhile = new Upgrade("198.51.100.2").accepted(true);
    assertEquals(503, meanwhile.status, "the slot is held between the 101 and onOpen");
    upgrade.open();
    assertEquals(0, limits().awaitingOpen());
    assertEquals(1, limits().connections());
    assertEquals(1, handshakes());
  }

  @Test
  void aConnectionDroppedBetweenThe101AndOnOpenIsGivenUpAfterTheHandshakeTimeout() throws Exception {
    server(Map.of("maxConnections", "1"));
    Upgrade dropped = new Upgrade("198.51.100.1").accepted(false);
    clock.advance(999);
    TestAccess.sweep(server);
    assertEquals(1, limits().connections(), "within the handshake timeout");
    clock.advance(1);
    TestAccess.sweep(server);
    assertEquals(0, limits().connections());
    assertEquals(0, limits().awaitingOpen());
    assertEquals(101, new Upgrade("198.51.100.2").accepted(true).status);
    assertEquals(1, limits().connections());

    dropped.open();
    // Sessions are closed on the transport's closing threads.
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> !dropped.closes.isEmpty());
    assertEquals(1, dropped.closes.size(), "opened after all, with no room left: closed at once");
    assertEquals(1013, dropped.closes.get(0).getCloseCode().getCode());
    assertEquals("The server is full", dropped.closes.get(0).getReasonPhrase());
    assertEquals(1, limits().connections());
    assertEquals(1, handshakes(), "no socket for it");
  }

  @Test
  void aConnectionThatOpensAfterItsSlotWasGivenUpTakesANewOneWhileThereIsRoom() throws Exception {
    server(Map.of("maxConnections", "1"));
    Upgrade late = new Upgrade("198.51.100.1").accepted(false);
    clock.advance(1000);
    TestAccess.sweep(server);
    assertEquals(0, limits().connections());
    late.open();
    assertEquals(List.of(), late.closes);
    assertEquals(1, limits().connections());
    assertEquals(AGServerSocket.CONNECTING, late.socket().state());
    late.closed(1001);
    assertEquals(0, limits().connections());
  }

  @Test
  void onOpenRacingTheSweepForOneSlotLeavesOneCount() throws Exception {
    server(Map.of("maxConnections", "2"));
    for (int round = 0; round < 200; round++) {
      Upgrade upgrade = new Upgrade("198.51.100." + (round % 250)).accepted(false);
      clock.advance(1000);
      CountDownLatch start = new CountDownLatch(1);
      Thread sweeper = new Thread(() -> {
        RacesSupport.await(start);
        TestAccess.sweep(server);
      });
      sweeper.start();
      start.countDown();
      upgrade.open();
      sweeper.join(10_000);
      assertEquals(1, limits().connections(), "round " + round + ": the socket's slot, its upgrade's or a new one");
      upgrade.closed(1000);
      assertEquals(0, limits().connections(), "round " + round);
    }
  }

  // ---- closes ----

  @Test
  void aSocketClosedByTheServerAndThenByItsConnectionFreesItsSlotOnce() throws Exception {
    server(Map.of("maxConnections", "2"));
    Upgrade first = new Upgrade("198.51.100.1").accepted(true);
    new Upgrade("198.51.100.2").accepted(true);
    first.socket().disconnect(4000, "bye");
    assertEquals(1, limits().connections());
    first.closed(4000);
    assertEquals(1, limits().connections(), "the container's onClose after the server's close");
    assertEquals(101, new Upgrade("198.51.100.3").accepted(true).status);
    assertEquals(503, new Upgrade("198.51.100.4").accepted(true).status);
  }

  @Test
  void aConnectionOpenedWhileTheServerClosesFreesItsSlot() throws Exception {
    server(Map.of("maxConnections", "1"));
    Upgrade upgrade = new Upgrade("198.51.100.1").accepted(false);
    server.close();
    upgrade.open();
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> !upgrade.closes.isEmpty());
    assertEquals(1001, upgrade.closes.get(0).getCloseCode().getCode());
    assertEquals(0, limits().connections());
  }

  @Test
  void withoutLimitsNoSlotIsTaken() throws Exception {
    server(Map.of());
    assertNull(limits());
    Upgrade upgrade = new Upgrade("198.51.100.1").accepted(true);
    assertEquals(101, upgrade.status);
    assertNull(upgrade.config.getUserProperties().get(AGEndpoint.SLOT_PROPERTY));
  }

  /** Latches with a deadline. */
  private static final class RacesSupport {
    static void await(CountDownLatch latch) {
      try {
        assertTrue(latch.await(10, TimeUnit.SECONDS));
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }
}
