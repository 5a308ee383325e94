package io.agserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.agserver.auth.AuthTokenOptions;
import io.agserver.auth.DeauthenticateOptions;
import io.agserver.auth.jwt.JwtAuthEngine;
import io.agserver.auth.jwt.JwtKeys;
import io.agserver.config.AGServerOptions;
import io.agserver.event.AGAuthenticationEvent;
import io.agserver.event.AGAuthenticationStateChangeEvent;
import io.agserver.event.AGBadSocketAuthTokenEvent;
import io.agserver.event.AGConnectionEvent;
import io.agserver.event.AGDeauthenticationEvent;
import io.agserver.event.AGHandshakeEvent;
import io.agserver.event.AGSocketEvent;
import io.agserver.event.AGWarningEvent;
import io.agserver.protocol.AGError;
import io.agserver.codec.JsonCodec;

/**
 * A socket's authentication against a recording transport, checked against what
 * socketcluster-server 20 sends and emits (the frames were recorded from it).
 */
class SocketAuthTest {

  static final String KEY = "conformance-secret";

  private final List<Object> events = new CopyOnWriteArrayList<>();
  private AGServer server;
  private final TestClock clock = new TestClock();

  private AGServer server(Map<String, String> config) {
    Map<String, String> all = new HashMap<>(Map.of("authKey", KEY, "authAlgorithm", "HS256"));
    all.putAll(config);
    AGServerOptions options = TestServers.options(all);
    server = new AGServer(options, null, events::add, null, null, clock);
    return server;
  }

  @AfterEach
  void close() {
    if (server != null) {
      server.close();
    }
  }

  static String sign(Map<String, Object> claims) {
    return new JwtAuthEngine(JwtKeys.hmac(KEY, null, null)).signToken(claims, null)
        .toCompletableFuture().join();
  }

  static long now() {
    return System.currentTimeMillis() / 1000;
  }

  static Map<String, Object> claims(Object... keyValues) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      map.put((String) keyValues[i], keyValues[i + 1]);
    }
    return map;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> json(String text) {
    return (Map<String, Object>) JsonCodec.instance().decode(text);
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object value) {
    return (Map<String, Object>) value;
  }

  private static AGUpgradeRequest request() {
    return new AGUpgradeRequest(URI.create("ws://localhost/socketcluster/"), Map.of(), Map.of(),
        "127.0.0.1", 5555, false);
  }

  private AGServerSocket handshake(FakeTransport transport, Object token) {
    AGServerSocket socket = server.accept(transport, request());
    Map<String, Object> packet = claims("event", "#handshake", "cid", 1);
    if (token != null) {
      packet.put("data", claims("authToken", token));
    }
    socket.receive(JsonCodec.instance().encode(packet));
    return socket;
  }

  private List<String> serverEventNames(AGServerSocket socket) {
    List<String> names = new java.util.ArrayList<>();
    for (Object e : events) {
      String name = null;
      if (e instanceof AGHandshakeEvent h && h.socket() == socket) {
        name = "handshake";
      } else if (e instanceof AGConnectionEvent c && c.socket() == socket) {
        name = "connection";
      } else if (e instanceof AGAuthenticationEvent a && a.socket() == socket) {
        name = "authentication";
      } else if (e instanceof AGDeauthenticationEvent d && d.socket() == socket) {
        name = "deauthentication";
      } else if (e instanceof AGAuthenticationStateChangeEvent s && s.socket() == socket) {
        name = "authenticationStateChange";
      } else if (e instanceof AGBadSocketAuthTokenEvent b && b.socket() == socket) {
        name = "badSocketAuthToken";
      }
      if (name != null) {
        names.add(name);
      }
    }
    return names;
  }

  private List<String> warnings() {
    return events.stream().filter(AGWarningEvent.class::isInstance)
        .map(e -> ((AGWarningEvent) e).warning())
        .map(w -> w instanceof AGError a ? a.name() + ": " + a.getMessage() : w.toString()).toList();
  }

  private static void await(BooleanSupplier condition) {
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(condition::getAsBoolean);
  }

  // ---- #handshake ----

  @Test
  void handshakeWithAValidTokenAuthenticatesAndTheEventsFollowConnection() {
    server(Map.of());
    String token = sign(claims("username", "grace", "exp", now() + 600));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshake(transport, token);

    Map<String, Object> reply = json(transport.packets().get(0));
    assertEquals(List.of("id", "pingTimeout", "isAuthenticated"), List.copyOf(map(reply.get("data")).keySet()));
    assertEquals(true, map(reply.get("data")).get("isAuthenticated"));
    assertEquals(1, transport.packets().size());
    assertEquals(AGServerSocket.AUTHENTICATED, socket.authState());
    assertEquals("grace", socket.authToken().get("username"));
    assertEquals(token, socket.signedAuthToken());
    assertEquals(List.of("handshake", "connection", "authenticationStateChange", "authentication"),
        serverEventNames(socket));
    AGConnectionEvent connection = (AGConnectionEvent) events.stream()
        .filter(AGConnectionEvent.class::isInstance).findFirst().orElseThrow();
    assertTrue(connection.isAuthenticated());
    assertNull(connection.authError());
  }

  @Test
  void socketAuthEventsCanBeConsumedFromTheConnectionHandler() throws Exception {
    server(Map.of());
    List<Object> seen = new CopyOnWriteArrayList<>();
    server.<AGConnectionEvent>listener("connection").consume(c -> {
      c.socket().listener("authStateChange").consume(seen::add);
      c.socket().listener("authenticate").consume(seen::add);
    });
    handshake(new FakeTransport(), sign(claims("username", "a")));
    await(() -> seen.size() == 2);
    AGSocketEvent.AuthStateChange change = assertInstanceOf(AGSocketEvent.AuthStateChange.class, seen.get(0));
    assertEquals(AGServerSocket.UNAUTHENTICATED, change.oldAuthState());
    assertEquals(AGServerSocket.AUTHENTICATED, change.newAuthState());
    assertEquals("a", change.authToken().get("username"));
    assertInstanceOf(AGSocketEvent.Authenticate.class, seen.get(1));
  }

  @Test
  void handshakeWithAnExpiredTokenReportsItRemovesItAndEmitsBadToken() {
    server(Map.of());
    long exp = now() - 10;
    String token = sign(claims("username", "a", "exp", exp));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshake(transport, token);

    List<String> packets = transport.packets();
    Map<String, Object> data = map(json(packets.get(0)).get("data"));
    assertEquals(List.of("id", "pingTimeout", "authError", "isAuthenticated"), List.copyOf(data.keySet()));
    assertEquals(false, data.get("isAuthenticated"));
    Map<String, Object> authError = map(data.get("authError"));
    assertEquals(List.of("message", "name", "expiry", "isBadToken"), List.copyOf(authError.keySet()));
    assertEquals("jwt expired", authError.get("message"));
    assertEquals("AuthTokenExpiredError", authError.get("name"));
    assertEquals(java.time.Instant.ofEpochSecond(exp).toString().replace("Z", ".000Z"), authError.get("expiry"));
    assertEquals(true, authError.get("isBadToken"));
    assertEquals("{\"event\":\"#removeAuthToken\"}", packets.get(1));
    assertEquals(2, packets.size());
    assertEquals(AGServerSocket.UNAUTHENTICATED, socket.authState());
    assertNull(socket.signedAuthToken());
    assertEquals(List.of("handshake", "badSocketAuthToken", "deauthentication", "connection"),
        serverEventNames(socket));
    assertTrue(warnings().contains("AuthTokenExpiredError: jwt expired"), warnings().toString());
    AGConnectionEvent connection = (AGConnectionEvent) events.stream()
        .filter(AGConnectionEvent.class::isInstance).findFirst().orElseThrow();
    assertEquals("AuthTokenExpiredError", connection.authError().name());
  }

  @Test
  void handshakeWithATokenNotYetValidReportsItButKeepsIt() {
    server(Map.of());
    String token = sign(claims("username", "a", "nbf", now() + 100));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshake(transport, token);

    Map<String, Object> data = map(json(transport.packets().get(0)).get("data"));
    Map<String, Object> authError = map(data.get("authError"));
    assertEquals(List.of("message", "name", "date", "isBadToken"), List.copyOf(authError.keySet()));
    assertEquals("AuthTokenNotBeforeError", authError.get("name"));
    assertEquals("jwt not active", authError.get("message"));
    assertEquals(false, authError.get("isBadToken"));
    assertEquals(1, transport.packets().size(), "no #removeAuthToken");
    assertEquals(List.of("handshake", "connection"), serverEventNames(socket));
    assertTrue(warnings().contains("AuthTokenNotBeforeError: jwt not active"));
  }

  @Test
  void handshakeWithoutATokenHasNoAuthError() {
    server(Map.of());
    for (Object token : new Object[] {null, "", 0, false}) {
      FakeTransport transport = new FakeTransport();
      AGServerSocket socket = handshake(transport, token);
      Map<String, Object> data = map(json(transport.packets().get(0)).get("data"));
      assertEquals(List.of("id", "pingTimeout", "isAuthenticated"), List.copyOf(data.keySet()), "token " + token);
      assertEquals(1, transport.packets().size());
      assertEquals(List.of("handshake", "connection"), serverEventNames(socket));
    }
    assertEquals(List.of(), warnings());
  }

  @Test
  void handshakeWithANonStringTokenIsABadAuthTokenError() {
    server(Map.of());
    for (Object token : new Object[] {123, Map.of("a", 1)}) {
      FakeTransport transport = new FakeTransport();
      AGServerSocket socket = handshake(transport, token);
      Map<String, Object> authError = map(map(json(transport.packets().get(0)).get("data")).get("authError"));
      assertEquals("AuthTokenError", authError.get("name"));
      assertEquals("Invalid token format - Token must be a string", authError.get("message"));
      assertEquals(true, authError.get("isBadToken"));
      assertEquals("{\"event\":\"#removeAuthToken\"}", transport.packets().get(1));
      assertEquals(List.of("handshake", "badSocketAuthToken", "deauthentication", "connection"),
          serverEventNames(socket));
    }
  }

  @Test
  void badTokenEventCarriesTheErrorAndTheToken() {
    server(Map.of());
    handshake(new FakeTransport(), "abc");
    AGBadSocketAuthTokenEvent bad = (AGBadSocketAuthTokenEvent) events.stream()
        .filter(AGBadSocketAuthTokenEvent.class::isInstance).findFirst().orElseThrow();
    assertEquals("abc", bad.signedAuthToken());
    assertEquals("AuthTokenInvalidError", bad.authError().name());
    assertEquals("jwt malformed", bad.authError().getMessage());
    assertEquals(true, bad.authError().get("isBadToken"));
  }

  @Test
  void identityProviderTokensAuthenticateInHandshakeAndAuthenticate() throws Exception {
    server(Map.of());
    java.security.KeyPairGenerator generator = java.security.KeyPairGenerator.getInstance("EC");
    generator.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
    java.security.KeyPair idp = generator.generateKeyPair();
    String publicPem = "-----BEGIN PUBLIC KEY-----\n"
        + java.util.Base64.getMimeEncoder().encodeToString(idp.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----";
    server.setAuthEngine(new JwtAuthEngine(JwtKeys.hmac(KEY, "HS256", null), io.agserver.auth.jwt.MpJwtConfig.provider(
        Map.of("mp.jwt.verify.publickey", publicPem,
            "mp.jwt.verify.publickey.algorithm", "ES256", "mp.jwt.verify.issuer", "https://idp"))));
    org.jose4j.jwt.JwtClaims claims = new org.jose4j.jwt.JwtClaims();
    claims.setIssuer("https://idp");
    claims.setSubject("user-7");
    claims.setIssuedAtToNow();
    claims.setExpirationTimeMinutesInTheFuture(5);
    org.jose4j.jws.JsonWebSignature jws = new org.jose4j.jws.JsonWebSignature();
    jws.setPayload(claims.toJson());
    jws.setAlgorithmHeaderValue("ES256");
    jws.setKey(idp.getPrivate());
    String token = jws.getCompactSerialization();

    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshake(transport, token);
    assertEquals(true, map(json(transport.packets().get(0)).get("data")).get("isAuthenticated"));
    assertEquals("user-7", socket.authToken().get("sub"));
    assertEquals(token, socket.signedAuthToken());

    FakeTransport second = new FakeTransport();
    AGServerSocket other = open(second);
    authenticate(other, token, true);
    assertEquals("{\"rid\":2,\"data\":{\"isAuthenticated\":true,\"authError\":null}}", second.packets().get(1));
    assertEquals("https://idp", other.authToken().get("iss"));

    // The server's own tokens still work next to them.
    AGServerSocket own = handshake(new FakeTransport(), sign(claims("username", "own")));
    assertEquals("own", own.authToken().get("username"));
  }

  // ---- #authenticate ----

  private AGServerSocket open(FakeTransport transport) {
    AGServerSocket socket = handshake(transport, null);
    events.clear();
    return socket;
  }

  private static void authenticate(AGServerSocket socket, Object token, boolean withData) {
    Map<String, Object> packet = claims("event", "#authenticate", "cid", 2);
    if (withData) {
      packet.put("data", token);
    }
    socket.receive(JsonCodec.instance().encode(packet));
  }

  @Test
  void authenticateWithAValidTokenAnswersAuthenticated() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = open(transport);
    authenticate(socket, sign(claims("username", "heidi", "exp", now() + 600)), true);
    assertEquals("{\"rid\":2,\"data\":{\"isAuthenticated\":true,\"authError\":null}}", transport.packets().get(1));
    assertEquals("heidi", socket.authToken().get("username"));
    assertEquals(List.of("authenticationStateChange", "authentication"), serverEventNames(socket));
  }

  @Test
  void authenticateWithABadTokenAnswersAnErrorThenRemovesTheToken() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = open(transport);
    authenticate(socket, sign(claims("username", "a", "exp", now() + 600)), true);
    events.clear();
    String wrong = new JwtAuthEngine(JwtKeys.hmac("other", null, null))
        .signToken(claims("username", "a"), null).toCompletableFuture().join();
    authenticate(socket, wrong, true);
    List<String> packets = transport.packets();
    assertEquals("{\"rid\":2,\"error\":{\"message\":\"invalid signature\",\"name\":\"AuthTokenInvalidError\","
        + "\"isBadToken\":true}}", packets.get(2));
    assertEquals("{\"event\":\"#removeAuthToken\"}", packets.get(3));
    assertEquals(AGServerSocket.UNAUTHENTICATED, socket.authState());
    // The state was dropped before deauthenticate(): no state change, as in the original.
    assertEquals(List.of("badSocketAuthToken", "deauthentication"), serverEventNames(socket));
  }

  @Test
  void authenticateWithATokenNotYetValidAnswersWithTheError() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = open(transport);
    authenticate(socket, sign(claims("username", "a", "nbf", now() + 100)), true);
    Map<String, Object> data = map(json(transport.packets().get(1)).get("data"));
    assertEquals(List.of("isAuthenticated", "authError"), List.copyOf(data.keySet()));
    assertEquals(false, data.get("isAuthenticated"));
    assertEquals("AuthTokenNotBeforeError", map(data.get("authError")).get("name"));
    assertEquals(2, transport.packets().size());
    assertEquals(List.of(), serverEventNames(socket));
  }

  @Test
  void authenticateWithoutATokenIsAnErrorWithoutBadTokenEvents() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = open(transport);
    authenticate(socket, null, false);
    assertEquals("{\"rid\":2,\"error\":{\"message\":\"jwt must be provided\",\"name\":\"AuthTokenInvalidError\","
        + "\"isBadToken\":true}}", transport.packets().get(1));
    assertEquals("{\"event\":\"#removeAuthToken\"}", transport.packets().get(2));
    assertEquals(List.of("deauthentication"), serverEventNames(socket));
    assertEquals(List.of(), warnings());
  }

  @Test
  void authenticateWithoutCidIsRejectedWith4008() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = open(transport);
    socket.receive("{\"event\":\"#authenticate\",\"data\":\"x\"}");
    assertEquals(4008, transport.closeCode);
    assertTrue(warnings().contains("InvalidActionError: Authenticate request was malformatted"));
  }

  @Test
  void removeAuthTokenFromTheClientDeauthenticatesWithoutAnswering() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = open(transport);
    List<Object> received = new CopyOnWriteArrayList<>();
    socket.receiver("#removeAuthToken").consume(received::add);
    socket.setAuthToken(claims("username", "dave"));
    events.clear();
    int sent = transport.packets().size();
    socket.receive("{\"event\":\"#removeAuthToken\"}");
    assertEquals(AGServerSocket.UNAUTHENTICATED, socket.authState());
    assertNull(socket.authToken());
    assertEquals(sent, transport.packets().size());
    assertEquals(List.of("authenticationStateChange", "deauthentication"), serverEventNames(socket));
    assertEquals(1, received.size());
  }

  // ---- setAuthToken / deauthenticate ----

  @Test
  void setAuthTokenSignsWithIatAndExpAndSendsTheToken() throws Exception {
    server(Map.of("authDefaultExpiry", "3600"));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = open(transport);
    List<Object> signed = new CopyOnWriteArrayList<>();
    socket.listener("authTokenSigned").consume(signed::add);
    socket.setAuthToken(claims("username", "alice")).toCompletableFuture().get(1, TimeUnit.SECONDS);

    Map<String, Object> packet = json(transport.packets().get(1));
    assertEquals("#setAuthToken", packet.get("event"));
    assertFalse(packet.containsKey("cid"));
    String token = (String) map(packet.get("data")).get("token");
    assertEquals(token, socket.signedAuthToken());
    Map<String, Object> payload = new JwtAuthEngine(JwtKeys.hmac(KEY, "HS256", null))
        .verifyToken(token, null).toCompletableFuture().join();
    assertEquals(List.of("username", "iat", "exp"), List.copyOf(payload.keySet()));
    assertEquals(payload, socket.authToken());
    long iat = ((Number) payload.get("iat")).longValue();
    assertTrue(Math.abs(iat - now()) <= 1);
    assertEquals(iat + 3600, ((Number) payload.get("exp")).longValue());
    assertEquals(List.of("authenticationStateChange", "authentication"), serverEventNames(socket));
    assertEquals(List.of(new AGSocketEvent.AuthTokenSigned(token)), signed);

    socket.setAuthToken(claims("username", "again"));
    assertEquals(List.of("authenticationStateChange", "authentication", "authentication"), serverEventNames(socket));
  }

  @Test
  void setAuthTokenKeepsTheDataOwnExpAndIatAndTakesExpiresIn() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = open(transport);
    socket.setAuthToken(claims("u", 1, "exp", 99999999999L), AuthTokenOptions.expiresIn(10));
    assertEquals(List.of("u", "exp", "iat"), List.copyOf(socket.authToken().keySet()));
    assertEquals(99999999999L, ((Number) socket.authToken().get("exp")).longValue());

    socket.setAuthToken(claims("u", 1, "iat", 1000));
    assertEquals(claims("u", 1, "iat", 1000, "exp", 1000 + 86400), socket.authToken());

    socket.setAuthToken(claims("u", 1), AuthTokenOptions.expiresIn("2h"));
    assertEquals(7200L, ((Number) socket.authToken().get("exp")).longValue()
        - ((Number) socket.authToken().get("iat")).longValue());

    socket.setAuthToken(claims("u", 1, "iat", 0), AuthTokenOptions.expiresIn(0).withNotBefore(java.time.Duration.ofSeconds(100)));
    Map<String, Object> token = socket.authToken();
    assertEquals(List.of("u", "iat", "nbf", "exp"), List.copyOf(token.keySet()));
    assertEquals(token.get("iat"), token.get("exp"));
  }

  @Test
  void setAuthTokenBeforeTheHandshakeFails() {
    server(Map.of());
    AGServerSocket socket = server.accept(new FakeTransport(), request());
    ExecutionException failure = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> socket.setAuthToken(claims("u", 1)).toCompletableFuture().get());
    assertEquals("InvalidActionError", ((AGError) failure.getCause()).name());
  }

  @Test
  void setAuthTokenThatCannotBeSignedClosesWith4002() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = open(transport);
    CompletableFuture<Void> result = socket.setAuthToken(claims("exp", "x")).toCompletableFuture();
    assertTrue(result.isCompletedExceptionally());
    assertEquals(4002, transport.closeCode);
    assertNull(transport.closeReason);
    assertEquals(AGServerSocket.CLOSED, socket.state());
    assertTrue(warnings().stream().anyMatch(w -> w.contains("\"exp\" should be a number of seconds")), warnings().toString());
    assertTrue(warnings().contains("SocketProtocolError: Server failed to sign auth token"), warnings().toString());
  }

  @Test
  void setAuthTokenWithRejectOnFailedDeliveryInvokesAndWaitsForTheAck() throws Exception {
    server(Map.of("ackTimeout", "200"));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = open(transport);
    CompletableFuture<Void> result = socket.setAuthToken(claims("u", 1),
        AuthTokenOptions.DEFAULTS.withRejectOnFailedDelivery(true)).toCompletableFuture();
    Map<String, Object> packet = json(transport.packets().get(1));
    assertEquals("#setAuthToken", packet.get("event"));
    assertFalse(result.isDone());
    socket.receive("{\"rid\":" + packet.get("cid") + "}");
    result.get(1, TimeUnit.SECONDS);

    CompletableFuture<Void> unanswered = socket.setAuthToken(claims("u", 2),
        AuthTokenOptions.DEFAULTS.withRejectOnFailedDelivery(true)).toCompletableFuture();
    clock.advance(200);
    server.sweep();
    ExecutionException failure = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> unanswered.get(10, TimeUnit.SECONDS));
    AGError error = (AGError) failure.getCause();
    assertEquals("AuthError", error.name());
    assertEquals("Failed to deliver auth token to client - Event response for #setAuthToken event timed out",
        error.getMessage());
  }

  @Test
  void deauthenticateRemovesTheTokenOnBothSides() throws Exception {
    server(Map.of("ackTimeout", "200"));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = open(transport);
    socket.setAuthToken(claims("username", "carol"));
    events.clear();
    List<Object> deauth = new CopyOnWriteArrayList<>();
    socket.listener("deauthenticate").consume(deauth::add);
    socket.deauthenticate().toCompletableFuture().get(1, TimeUnit.SECONDS);
    assertEquals("{\"event\":\"#removeAuthToken\"}", transport.packets().get(transport.packets().size() - 1));
    assertEquals(List.of("authenticationStateChange", "deauthentication"), serverEventNames(socket));
    assertEquals("carol", ((AGSocketEvent.Deauthenticate) deauth.get(0)).oldAuthToken().get("username"));

    CompletableFuture<Void> confirmed = socket.deauthenticate(DeauthenticateOptions.REJECT_ON_FAILED_DELIVERY)
        .toCompletableFuture();
    Map<String, Object> packet = json(transport.packets().get(transport.packets().size() - 1));
    assertEquals("#removeAuthToken", packet.get("event"));
    assertNotNull(packet.get("cid"));
    assertFalse(confirmed.isDone());
    socket.receive("{\"rid\":" + packet.get("cid") + "}");
    confirmed.get(1, TimeUnit.SECONDS);
  }

  // ---- expiry ----

  @Test
  void anExpiredTokenIsDroppedOnTheNextMessage() throws Exception {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = open(transport);
    List<Object> received = new CopyOnWriteArrayList<>();
    socket.receiver("hello").consume(received::add);
    socket.setAuthToken(claims("u", 1), AuthTokenOptions.expiresIn(-1));
    assertTrue(socket.isAuthTokenExpired());
    events.clear();
    int sent = transport.packets().size();
    socket.receive("{\"event\":\"hello\",\"data\":1}");
    assertEquals(AGServerSocket.UNAUTHENTICATED, socket.authState());
    assertEquals("{\"event\":\"#removeAuthToken\"}", transport.packets().get(sent));
    assertEquals(List.of("authenticationStateChange", "deauthentication"), serverEventNames(socket));
    assertEquals(List.of(1), received);

    socket.setAuthToken(claims("u", 1), AuthTokenOptions.expiresIn(-1));
    socket.receive("");  // a pong
    assertEquals(AGServerSocket.UNAUTHENTICATED, socket.authState());
  }

  @Test
  void passiveExpiryWaitsForAMessage() throws Exception {
    server(Map.of());
    AGServerSocket socket = open(new FakeTransport());
    socket.setAuthToken(claims("u", 1, "exp", now() + 1));
    clock.advance(2100);
    server.sweep();
    assertEquals(AGServerSocket.AUTHENTICATED, socket.authState());
    socket.receive("{\"event\":\"any\"}");
    assertEquals(AGServerSocket.UNAUTHENTICATED, socket.authState(), "expired at the next message");
  }

  @Test
  void activeExpiryDeauthenticatesWithoutAMessage() throws Exception {
    server(Map.of("authExpiryCheck", "active"));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = open(transport);
    socket.setAuthToken(claims("u", 1, "exp", now() + 1));
    assertEquals(AGServerSocket.AUTHENTICATED, socket.authState());
    clock.advance(2100);
    await(() -> AGServerSocket.UNAUTHENTICATED.equals(socket.authState()));
    await(() -> transport.packets().contains("{\"event\":\"#removeAuthToken\"}"));
    assertEquals(1, transport.packets().stream().filter(p -> p.contains("#removeAuthToken")).count());
    assertEquals(List.of("authenticationStateChange", "authentication", "authenticationStateChange",
        "deauthentication"), serverEventNames(socket));
  }

  @Test
  void authExpiryCheckIsValidated() {
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> AGServerOptions.from(key -> key.endsWith("authExpiryCheck") ? Optional.of("sometimes") : Optional.empty()));
    assertTrue(e.getMessage().contains("socketcluster.authExpiryCheck"));
  }
}
