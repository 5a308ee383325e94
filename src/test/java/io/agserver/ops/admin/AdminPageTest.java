package io.agserver.ops.admin;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.agserver.AGServer;
import io.agserver.AGServerSocket;
import io.agserver.AGUpgradeRequest;
import io.agserver.TestAccess;
import io.agserver.codec.JsonCodec;
import io.agserver.config.AGServerOptions;

/**
 * The admin page's rules, with its filter and endpoints driven as a container drives them
 * ({@link FakeHttp}) in front of a real server (memory engine) whose sockets are driven through
 * the protocol: 404 when off, 401 and 429 for passwords, 403 and 405 for state-changing requests,
 * 400 for bad input, and what finding, disconnecting and publishing do to real sockets.
 */
class AdminPageTest {

  static final String PASSWORD = "the password";

  private final List<AGServer> servers = new ArrayList<>();
  private final List<LogRecord> actions = new CopyOnWriteArrayList<>();
  private final Logger actionLog = Logger.getLogger("io.agserver.ops.admin.actions");
  private final Handler recorder = new Handler() {
    @Override
    public void publish(LogRecord record) {
      actions.add(record);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };
  private AdminConsole console;

  @AfterEach
  void stop() {
    actionLog.removeHandler(recorder);
    if (console != null) {
      console.close();
    }
    servers.forEach(AGServer::close);
  }

  private AGServer server(Map<String, String> settings) {
    Map<String, String> keys = new HashMap<>();
    settings.forEach((key, value) -> keys.put(AGServerOptions.PREFIX + key, value));
    AGServer server = new AGServer(AGServerOptions.from(key -> Optional.ofNullable(keys.get(key))), null, null, null);
    servers.add(server);
    return server;
  }

  private FakeHttp page(Map<String, String> settings) {
    Map<String, String> all = new HashMap<>(settings);
    all.put("admin.password", PASSWORD);
    AGServer server = server(all);
    console = AdminConsole.start(TestAccess.connections(server));
    assertNotNull(console);
    actionLog.addHandler(recorder);
    return new FakeHttp(console);
  }

  static String basic(String user, String password) {
    return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  static final Map<String, String> OPERATOR = Map.of("Authorization", basic("ops", PASSWORD));
  static final Map<String, String> ACTION = Map.of("Authorization", basic("ops", PASSWORD),
      "X-AGServer-Admin", "1", "Host", "admin.example:8443", "Origin", "https://admin.example:8443",
      "Sec-Fetch-Site", "same-origin");

  private static AGServerSocket connect(AGServer server, RecordingTransport transport) {
    AGServerSocket socket = TestAccess.accept(server, transport, new AGUpgradeRequest(
        URI.create("ws://localhost/socketcluster/"), Map.of(), Map.of(), "10.1.2.3", 5555, false));
    TestAccess.receive(socket, "{\"event\":\"#handshake\",\"cid\":1}");
    await().atMost(Duration.ofSeconds(10)).until(() -> socket.state() == AGServerSocket.OPEN);
    return socket;
  }

  private static void subscribe(AGServerSocket socket, String channel) {
    TestAccess.receive(socket, "{\"event\":\"#subscribe\",\"data\":{\"channel\":\"" + channel + "\"},\"cid\":2}");
    await().atMost(Duration.ofSeconds(10)).until(() -> socket.isSubscribed(channel));
  }

  @Test
  void offEveryAdminPathAnswers404WithOrWithoutAPassword() throws Exception {
    AGServer server = server(Map.of());
    assertNull(AdminConsole.start(TestAccess.connections(server)));
    FakeHttp http = new FakeHttp(null);
    for (String path : List.of("/admin", "/admin/", "/admin/admin.js", "/admin/api/figures")) {
      for (Map<String, String> headers : List.of(Map.<String, String>of(), OPERATOR)) {
        FakeHttp.Answer answer = http.get(path, headers);
        assertEquals(404, answer.status(), path);
        assertNull(answer.header("WWW-Authenticate"));
        assertEquals("no-store", answer.header("Cache-Control"));
      }
    }
    assertEquals(404, http.post("/admin/api/publish", ACTION, "{\"channel\":\"a\",\"data\":\"1\"}").status());
  }

  @Test
  void withoutThePasswordEveryPathAsksForIt() throws Exception {
    FakeHttp http = page(Map.of());
    // (Each wrong password from an address of its own: five from one would block it.)
    int address = 0;
    for (String path : List.of("/admin", "/admin/", "/admin/admin.js", "/admin/api/figures", "/admin/api/nothing")) {
      for (String authorization : List.of("", basic("ops", "wrong"), "Bearer " + PASSWORD, "Basic !!!",
          basic("ops", PASSWORD + " "))) {
        FakeHttp.Answer answer = http.get(path, authorization.isEmpty() ? Map.of()
            : Map.of("Authorization", authorization, "X-Test-Remote", "10.0.0." + ++address));
        assertEquals(401, answer.status(), path + " " + authorization);
        assertEquals("Basic realm=\"agserver-admin\", charset=\"UTF-8\"", answer.header("WWW-Authenticate"));
        assertEquals("no-store", answer.header("Cache-Control"));
      }
    }
    // Any user name; the page's files, its endpoints; anything else is 404 behind the password.
    assertEquals("static /admin/", http.get("/admin/", Map.of("Authorization", basic("", PASSWORD))).body());
    assertEquals(200, http.get("/admin/admin.js", Map.of("Authorization", basic("anyone", PASSWORD))).status());
    FakeHttp.Answer page = http.get("/admin", OPERATOR);
    assertEquals(200, page.status());
    assertEquals("DENY", page.header("X-Frame-Options"));
    assertTrue(page.header("Content-Security-Policy").contains("frame-ancestors 'none'"));
    assertEquals(404, http.get("/admin/secret.txt", OPERATOR).status());
    FakeHttp.Answer noEndpoint = http.get("/admin/api/nothing", OPERATOR);
    assertEquals(404, noEndpoint.status());
    assertEquals("Not Found", noEndpoint.json().get("error"));
  }

  @Test
  void fiveWrongPasswordsInAMinuteBlockTheirAddressAlone() throws Exception {
    FakeHttp http = page(Map.of());
    Map<String, String> wrong = Map.of("Authorization", basic("guess", "wrong"), "X-Test-Remote", "192.0.2.7");
    for (int i = 0; i < LoginThrottle.FAILURES; i++) {
      assertEquals(401, http.get("/admin/", wrong).status());
    }
    // Blocked: the right password too, for a minute.
    FakeHttp.Answer blocked = http.get("/admin/api/figures",
        Map.of("Authorization", basic("ops", PASSWORD), "X-Test-Remote", "192.0.2.7"));
    assertEquals(429, blocked.status());
    assertEquals("60", blocked.header("Retry-After"));
    assertEquals("no-store", blocked.header("Cache-Control"));
    // Another address is not.
    assertEquals(200, http.get("/admin/api/figures", OPERATOR).status());
  }

  @Test
  void aStateChangingRequestIsAPostWithTheGuardHeaderFromThePagesOwnOrigin() throws Exception {
    FakeHttp http = page(Map.of());
    String body = "{\"channel\":\"news\",\"data\":\"1\"}";
    Map<String, String> noGuard = new HashMap<>(ACTION);
    noGuard.remove("X-AGServer-Admin");
    assertEquals(403, http.post("/admin/api/publish", noGuard, body).status());
    assertEquals("A state-changing request needs the header X-AGServer-Admin: 1 (the admin page sends it)",
        http.post("/admin/api/disconnect", noGuard, "{\"id\":\"x\"}").json().get("error"));
    Map<String, String> foreign = new HashMap<>(ACTION);
    foreign.put("Origin", "https://evil.example");
    assertEquals(403, http.post("/admin/api/publish", foreign, body).status());
    Map<String, String> crossSite = new HashMap<>(ACTION);
    crossSite.put("Sec-Fetch-Site", "cross-site");
    assertEquals(403, http.post("/admin/api/publish", crossSite, body).status());
    // Behind a proxy that rewrote Host, the origin may match the forwarded host.
    Map<String, String> proxied = new HashMap<>(ACTION);
    proxied.put("Host", "agserver-1:9080");
    proxied.put("X-Forwarded-Host", "admin.example:8443");
    assertEquals(200, http.post("/admin/api/publish", proxied, body).status());
    // No Origin at all (curl, an older browser) passes with the guard header.
    Map<String, String> noOrigin = new HashMap<>(ACTION);
    noOrigin.remove("Origin");
    noOrigin.remove("Sec-Fetch-Site");
    assertEquals(200, http.post("/admin/api/publish", noOrigin, body).status());

    FakeHttp.Answer get = http.get("/admin/api/publish", OPERATOR);
    assertEquals(405, get.status());
    assertEquals("POST", get.header("Allow"));
    FakeHttp.Answer post = http.post("/admin/api/figures", ACTION, "{}");
    assertEquals(405, post.status());
    assertEquals("GET, HEAD", post.header("Allow"));
    assertEquals(405, http.send("PUT", "/admin/api/disconnect", ACTION, "{}").status());
  }

  @Test
  void theFiguresCountTheSocketsTheirChannelsAndTheSamples() throws Exception {
    FakeHttp http = page(Map.of());
    AGServer server = console.server();
    AGServerSocket one = connect(server, new RecordingTransport());
    connect(server, new RecordingTransport());
    subscribe(one, "news");
    // The first sample is taken at start; the next ones every 2 s.
    await().atMost(Duration.ofSeconds(10)).until(() -> console.history().latest() != null);

    Map<?, ?> figures = http.get("/admin/api/figures", OPERATOR).json();
    Map<?, ?> now = (Map<?, ?>) figures.get("now");
    assertEquals(2, now.get("connections"));
    assertEquals(2, now.get("clients"));
    assertEquals(1, now.get("channels"));
    assertEquals(List.of(Map.of("channel", "news", "subscribers", 1)), figures.get("topChannels"));
    assertEquals(List.of(), figures.get("slowConsumers"));
    Map<?, ?> instance = (Map<?, ?>) figures.get("instance");
    assertEquals(console.instanceId(), instance.get("id"));
    assertEquals("memory", instance.get("brokerEngine"));
    assertTrue(((String) instance.get("id")).matches("[a-z0-9._-]+-[0-9a-z]{4}"), (String) instance.get("id"));
    List<?> samples = (List<?>) figures.get("samples");
    assertTrue(!samples.isEmpty());
    long last = ((Number) ((Map<?, ?>) samples.get(samples.size() - 1)).get("t")).longValue();
    assertEquals(List.of(), http.get("/admin/api/figures?since=" + last, OPERATOR).json().get("samples"));
    assertEquals(400, http.get("/admin/api/figures?since=yesterday", OPERATOR).status());

    Map<?, ?> instances = http.get("/admin/api/instances", OPERATOR).json();
    assertEquals(console.instanceId(), instances.get("self"));
    assertEquals(1, ((List<?>) instances.get("instances")).size());
    assertEquals(console.instanceId(), ((Map<?, ?>) ((List<?>) instances.get("instances")).get(0)).get("id"));
  }

  @Test
  void socketsAreFoundByIdAndByTheUserClaimOfTheirToken() throws Exception {
    FakeHttp http = page(Map.of("presence.userClaim", "sub"));
    AGServer server = console.server();
    AGServerSocket alice = connect(server, new RecordingTransport());
    AGServerSocket bob = connect(server, new RecordingTransport());
    AGServerSocket bobAgain = connect(server, new RecordingTransport());
    alice.setAuthToken(Map.of("sub", "alice"));
    bob.setAuthToken(Map.of("sub", "bob", "username", "alice"));
    bobAgain.setAuthToken(Map.of("sub", "bob"));
    subscribe(bob, "news");

    Map<?, ?> byId = http.get("/admin/api/sockets?id=" + alice.id(), OPERATOR).json();
    assertEquals(1, byId.get("total"));
    Map<?, ?> found = (Map<?, ?>) ((List<?>) byId.get("sockets")).get(0);
    assertEquals(alice.id(), found.get("id"));
    assertEquals("alice", found.get("user"));
    assertEquals("10.1.2.3", found.get("remoteAddress"));
    assertEquals("open", found.get("state"));
    assertEquals(true, found.get("authenticated"));
    assertEquals(alice.connectedAt().toEpochMilli(), ((Number) found.get("connectedAt")).longValue());

    Map<?, ?> byUser = http.get("/admin/api/sockets?user=bob", OPERATOR).json();
    assertEquals(2, byUser.get("total"));
    assertEquals("sub", byUser.get("userClaim"));
    List<String> ids = ((List<?>) byUser.get("sockets")).stream().map(s -> (String) ((Map<?, ?>) s).get("id")).toList();
    assertEquals(java.util.stream.Stream.of(bob.id(), bobAgain.id()).sorted().toList(), ids);
    Map<?, ?> bobFound = (Map<?, ?>) ((List<?>) byUser.get("sockets")).get(ids.indexOf(bob.id()));
    assertEquals(List.of("news"), bobFound.get("channels"));
    // Only the configured claim counts.
    assertEquals(0, http.get("/admin/api/sockets?user=alic", OPERATOR).json().get("total"));
    assertEquals(1, http.get("/admin/api/sockets?user=alice", OPERATOR).json().get("total"));
    assertEquals(0, http.get("/admin/api/sockets?id=nobody", OPERATOR).json().get("total"));
    assertEquals(400, http.get("/admin/api/sockets", OPERATOR).status());
    assertEquals(400, http.get("/admin/api/sockets?id=a&user=b", OPERATOR).status());
  }

  @Test
  void disconnectClosesWith4100AndKickWith4500AndTheActionIsLogged() throws Exception {
    FakeHttp http = page(Map.of());
    AGServer server = console.server();
    RecordingTransport first = new RecordingTransport();
    RecordingTransport second = new RecordingTransport();
    AGServerSocket one = connect(server, first);
    AGServerSocket two = connect(server, second);

    FakeHttp.Answer disconnected = http.post("/admin/api/disconnect", ACTION, "{\"id\":\"" + one.id() + "\"}");
    assertEquals(200, disconnected.status());
    assertEquals(Map.of("id", one.id(), "code", 4100, "reason", "Disconnected by an administrator"), disconnected.json());
    assertEquals(4100, first.closeCode);
    assertEquals("Disconnected by an administrator", first.closeReason);
    assertEquals(AGServerSocket.CLOSED, one.state());

    FakeHttp.Answer kicked = http.post("/admin/api/disconnect", ACTION,
        "{\"id\":\"" + two.id() + "\",\"mode\":\"kick\"}");
    assertEquals(4500, kicked.json().get("code"));
    assertEquals(4500, second.closeCode);
    assertEquals("Disconnected by an administrator; do not reconnect", second.closeReason);
    assertEquals(0, server.clientsCount());

    assertEquals(404, http.post("/admin/api/disconnect", ACTION, "{\"id\":\"" + two.id() + "\"}").status());
    assertEquals(400, http.post("/admin/api/disconnect", ACTION, "{\"id\":\"x\",\"mode\":\"ban\"}").status());
    assertEquals(400, http.post("/admin/api/disconnect", ACTION, "{\"mode\":\"kick\"}").status());
    assertEquals(400, http.post("/admin/api/disconnect", ACTION, "id=x").status());

    List<String> logged = actions.stream().filter(r -> r.getLevel() == Level.INFO).map(LogRecord::getMessage).toList();
    assertEquals(List.of("agserver admin: 'ops' from 127.0.0.1 disconnected socket " + one.id() + " (10.1.2.3) with 4100",
        "agserver admin: 'ops' from 127.0.0.1 kicked socket " + two.id() + " (10.1.2.3) with 4500"), logged);
  }

  @Test
  void aPublishReachesTheSubscribersAndHistoryChannelsGiveItsOffset() throws Exception {
    FakeHttp http = page(Map.of("history.channels", "kept/*"));
    AGServer server = console.server();
    RecordingTransport transport = new RecordingTransport();
    AGServerSocket socket = connect(server, transport);
    subscribe(socket, "news");
    subscribe(socket, "kept/one");

    FakeHttp.Answer published = http.post("/admin/api/publish", ACTION,
        "{\"channel\":\"news\",\"data\":\"{\\\"text\\\": \\\"hi\\\", \\\"n\\\": [1, 2.5]}\"}");
    assertEquals(200, published.status());
    assertEquals(Map.of("channel", "news"), published.json());
    await().atMost(Duration.ofSeconds(10)).until(() -> transport.texts.contains(
        "{\"event\":\"#publish\",\"data\":{\"channel\":\"news\",\"data\":{\"text\":\"hi\",\"n\":[1,2.5]}}}"));

    Map<?, ?> kept = http.post("/admin/api/publish", ACTION, "{\"channel\":\"kept/one\",\"data\":\"\\\"first\\\"\"}").json();
    assertEquals(1, kept.get("offset"));
    assertNotNull(kept.get("epoch"));
    await().atMost(Duration.ofSeconds(10)).until(() -> transport.texts.stream()
        .anyMatch(text -> text.contains("\"channel\":\"kept/one\"") && text.contains("\"first\"")));

    FakeHttp.Answer invalid = http.post("/admin/api/publish", ACTION, "{\"channel\":\"news\",\"data\":\"{text: 1}\"}");
    assertEquals(400, invalid.status());
    assertTrue(((String) invalid.json().get("error")).startsWith("data is not JSON: "), invalid.body());
    assertEquals(400, http.post("/admin/api/publish", ACTION, "{\"channel\":\"news\",\"data\":\"1 2\"}").status());
    assertEquals(400, http.post("/admin/api/publish", ACTION, "{\"channel\":\"\",\"data\":\"1\"}").status());
    assertEquals(400, http.post("/admin/api/publish", ACTION, "{\"channel\":\"news\",\"data\":1}").status());
    assertEquals(400, http.post("/admin/api/publish", ACTION, "[1]").status());
    long publishes = transport.texts.stream().filter(text -> text.contains("#publish")).count();
    assertEquals(2, publishes);

    List<String> logged = actions.stream().map(LogRecord::getMessage).toList();
    assertEquals(List.of("agserver admin: 'ops' from 127.0.0.1 published 29 characters to channel 'news'",
        "agserver admin: 'ops' from 127.0.0.1 published 7 characters to channel 'kept/one'"), logged);
    assertEquals(JsonCodec.instance().parse("{\"text\": \"hi\", \"n\": [1, 2.5]}"), Map.of("text", "hi", "n", List.of(1, 2.5)));
  }
}
