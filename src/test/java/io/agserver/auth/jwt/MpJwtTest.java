package io.agserver.auth.jwt;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyStore;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import org.jose4j.jwe.ContentEncryptionAlgorithmIdentifiers;
import org.jose4j.jwe.JsonWebEncryption;
import org.jose4j.jwe.KeyManagementAlgorithmIdentifiers;
import org.jose4j.jwk.JsonWebKey;
import org.jose4j.jwk.PublicJsonWebKey;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.NumericDate;
import org.jose4j.keys.HmacKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import io.agserver.protocol.AGError;

/**
 * Tokens of an identity provider, verified by SmallRye JWT from MicroProfile JWT's keys and
 * SmallRye's own, next to the server's own tokens. The provider's key pairs are made by the test;
 * the keys' values go through a MicroProfile Config ({@link MpJwtConfig}).
 */
class MpJwtTest {

  static final String ISSUER = "https://idp.example.com";

  /** A token as an identity provider issues it, valid for ten minutes. */
  static String idpToken(String alg, Key key, String kid) throws Exception {
    return idpToken(alg, key, kid, claims -> { });
  }

  static String idpToken(String alg, Key key, String kid, Consumer<JwtClaims> change) throws Exception {
    JwtClaims claims = new JwtClaims();
    claims.setIssuer(ISSUER);
    claims.setSubject("user-42");
    claims.setClaim("upn", "jdoe@example.com");
    claims.setStringListClaim("groups", "chat", "admin");
    claims.setIssuedAtToNow();
    claims.setExpirationTimeMinutesInTheFuture(10);
    change.accept(claims);
    JsonWebSignature jws = new JsonWebSignature();
    jws.setPayload(claims.toJson());
    jws.setAlgorithmHeaderValue(alg);
    jws.setKey(key);
    jws.setDoKeyValidation(false);
    if (kid != null) {
      jws.setKeyIdHeaderValue(kid);
    }
    jws.setHeader("typ", "JWT");
    return jws.getCompactSerialization();
  }

  static long now() {
    return System.currentTimeMillis() / 1000;
  }

  /** The server's own HS256 key, and the identity provider these keys describe. */
  static JwtAuthEngine engine(Map<String, String> mpConfig) {
    IdentityProvider provider = MpJwtConfig.provider(mpConfig);
    assertTrue(provider != null, "the keys describe an identity provider");
    return new JwtAuthEngine(JwtKeys.hmac(JwtSecurityTest.KEY, "HS256", null), provider);
  }

  static Map<String, Object> verified(JwtAuthEngine engine, String token) {
    return engine.verifyToken(token, null).toCompletableFuture().join();
  }

  static AGError refused(JwtAuthEngine engine, String token) {
    return JwtSecurityTest.refused(engine, token);
  }

  static String publicPem(KeyPair pair) {
    return JwtSecurityTest.pem("PUBLIC KEY", pair.getPublic().getEncoded());
  }

  static String jwk(KeyPair pair, String kid) throws Exception {
    PublicJsonWebKey jwk = PublicJsonWebKey.Factory.newPublicJwk(pair.getPublic());
    jwk.setKeyId(kid);
    return jwk.toJson(JsonWebKey.OutputControlLevel.PUBLIC_ONLY);
  }

  static String jwks(String... jwks) {
    return "{\"keys\":[" + String.join(",", jwks) + "]}";
  }

  // ---- keys: mp.jwt.verify.publickey and .location ----

  @Test
  void rs256TokensOfTheIdentityProviderAuthenticateNextToOwnTokens() throws Exception {
    KeyPair idp = JwtSecurityTest.rsa();
    JwtAuthEngine engine = engine(Map.of("mp.jwt.verify.publickey", publicPem(idp), "mp.jwt.verify.issuer", ISSUER));

    Map<String, Object> claims = verified(engine, idpToken("RS256", idp.getPrivate(), null));
    assertEquals("user-42", claims.get("sub"));
    assertEquals("jdoe@example.com", claims.get("upn"));
    assertEquals(List.of("chat", "admin"), claims.get("groups"));
    assertEquals(ISSUER, claims.get("iss"));
    assertNull(claims.get("raw_token"), "the claims are the token's, not SmallRye's additions");

    String own = engine.signToken(JwtSecurityTest.claims("username", "a"), null).toCompletableFuture().join();
    assertEquals("a", verified(engine, own).get("username"));
  }

  @Test
  void es256TokensVerifyWithAJwkSetSelectedByKid() throws Exception {
    KeyPair first = JwtSecurityTest.ec("secp256r1");
    KeyPair second = JwtSecurityTest.ec("secp256r1");
    JwtAuthEngine engine = engine(Map.of(
        "mp.jwt.verify.publickey", jwks(jwk(first, "k1"), jwk(second, "k2")),
        "mp.jwt.verify.publickey.algorithm", "ES256",
        "mp.jwt.verify.issuer", ISSUER));
    assertEquals("user-42", verified(engine, idpToken("ES256", second.getPrivate(), "k2")).get("sub"));
    // Signed by k1's key but naming k2: no key verifies it, and the client sees the server's own error.
    assertEquals("invalid algorithm", refused(engine, idpToken("ES256", first.getPrivate(), "k2")).getMessage());
    // RS256 is not the configured algorithm.
    KeyPair rsa = JwtSecurityTest.rsa();
    assertEquals("invalid algorithm", refused(engine, idpToken("RS256", rsa.getPrivate(), null)).getMessage());
  }

  @Test
  void theKeyLocationMayBeAFile(@TempDir Path dir) throws Exception {
    KeyPair idp = JwtSecurityTest.ec("secp256r1");
    Path pem = dir.resolve("idp.pem");
    Files.writeString(pem, publicPem(idp), StandardCharsets.US_ASCII);
    for (String location : List.of(pem.toString(), "file:" + pem)) {
      JwtAuthEngine engine = engine(Map.of(
          "mp.jwt.verify.publickey.location", location,
          "mp.jwt.verify.publickey.algorithm", "ES256"));
      assertEquals("user-42", verified(engine, idpToken("ES256", idp.getPrivate(), null)).get("sub"), location);
    }
  }

  @Test
  void theKeyLocationMayBeOnTheClassPath(@TempDir Path dir) throws Exception {
    KeyPair idp = JwtSecurityTest.rsa();
    Files.writeString(dir.resolve("idp.jwk"), jwk(idp, null), StandardCharsets.UTF_8);
    Thread thread = Thread.currentThread();
    ClassLoader original = thread.getContextClassLoader();
    // SmallRye reads classpath: locations through the thread's class loader, the application's.
    try (URLClassLoader application = new URLClassLoader(new URL[] {dir.toUri().toURL()}, original)) {
      thread.setContextClassLoader(application);
      JwtAuthEngine engine = engine(Map.of("mp.jwt.verify.publickey.location", "classpath:idp.jwk"));
      assertEquals("user-42", verified(engine, idpToken("RS256", idp.getPrivate(), null)).get("sub"));
    } finally {
      thread.setContextClassLoader(original);
    }
  }

  /**
   * An https JWK set, as identity providers publish theirs, trusted through
   * smallrye.jwt.client.tls.certificate.path (the key server's self-signed certificate). It is
   * fetched off the calling thread, cached, and fetched again once for a key id it does not
   * have (the provider rotated its keys); within smallrye.jwt.jwks.forced-refresh-interval no
   * second forced fetch happens.
   */
  @Test
  void theKeyLocationMayBeAnHttpsJwkSetRefreshedForNewKeys(@TempDir Path dir) throws Exception {
    KeyPair k1 = JwtSecurityTest.ec("secp256r1");
    KeyPair k2 = JwtSecurityTest.ec("secp256r1");
    KeyPair k3 = JwtSecurityTest.ec("secp256r1");
    AtomicReference<String> published = new AtomicReference<>(jwks(jwk(k1, "k1")));
    AtomicInteger fetches = new AtomicInteger();
    AtomicLong lastServed = new AtomicLong();
    CountDownLatch answer = new CountDownLatch(1);

    HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(serverTls()));
    ExecutorService handlers = Executors.newCachedThreadPool();
    server.setExecutor(handlers);
    server.createContext("/jwks", exchange -> {
      fetches.incrementAndGet();
      try {
        answer.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      byte[] body = published.get().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
      lastServed.set(System.nanoTime());
    });
    server.start();
    try {
      Path certificate = dir.resolve("key-server.crt");
      try (InputStream in = MpJwtTest.class.getResourceAsStream("jwks-server.crt")) {
        Files.copy(in, certificate);
      }
      JwtAuthEngine engine = engine(Map.of(
          "mp.jwt.verify.publickey.location", "https://127.0.0.1:" + server.getAddress().getPort() + "/jwks",
          "mp.jwt.verify.publickey.algorithm", "ES256",
          "smallrye.jwt.client.tls.certificate.path", certificate.toString()));

      // The key server has not answered yet: the verification waits for it, but not here.
      CompletableFuture<Map<String, Object>> first =
          engine.verifyToken(idpToken("ES256", k1.getPrivate(), "k1"), null).toCompletableFuture();
      assertFalse(first.isDone(), "verifyToken returned while the key server was still silent");
      answer.countDown();
      assertEquals("user-42", first.get(30, TimeUnit.SECONDS).get("sub"));
      assertEquals(1, fetches.get());

      assertEquals("user-42", verified(engine, idpToken("ES256", k1.getPrivate(), "k1")).get("sub"));
      assertEquals(1, fetches.get(), "the key set is cached");

      published.set(jwks(jwk(k1, "k1"), jwk(k2, "k2")));
      // jose4j loads a key set at most once in 300 ms, whoever asks; SmallRye forces one load
      // for an unknown kid, then none for smallrye.jwt.jwks.forced-refresh-interval.
      await().atMost(Duration.ofSeconds(5))
          .until(() -> System.nanoTime() - lastServed.get() > TimeUnit.MILLISECONDS.toNanos(500));
      assertEquals("user-42", verified(engine, idpToken("ES256", k2.getPrivate(), "k2")).get("sub"));
      assertEquals(2, fetches.get(), "an unknown kid fetched the key set again");

      published.set(jwks(jwk(k1, "k1"), jwk(k2, "k2"), jwk(k3, "k3")));
      AGError error = refused(engine, idpToken("ES256", k3.getPrivate(), "k3"));
      assertEquals("invalid algorithm", error.getMessage(), "the server's own error");
      assertEquals(2, fetches.get(), "no second forced fetch within smallrye.jwt.jwks.forced-refresh-interval");
    } finally {
      answer.countDown();
      server.stop(0);
      handlers.shutdownNow();
    }
  }

  /** The key server's TLS: a self-signed certificate for 127.0.0.1 (src/test/resources). */
  static SSLContext serverTls() throws Exception {
    char[] password = "agserver-test".toCharArray();
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = MpJwtTest.class.getResourceAsStream("jwks-server.p12")) {
      store.load(in, password);
    }
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, password);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(keys.getKeyManagers(), null, null);
    return tls;
  }

  // ---- claims: issuer, audiences, clock skew, token age, SmallRye's keys ----

  @Test
  void theIssuerMustMatch() throws Exception {
    KeyPair idp = JwtSecurityTest.rsa();
    JwtAuthEngine engine = engine(Map.of("mp.jwt.verify.publickey", publicPem(idp), "mp.jwt.verify.issuer", ISSUER));
    String evil = idpToken("RS256", idp.getPrivate(), null, claims -> claims.setIssuer("https://evil.example.com"));
    AGError error = refused(engine, evil);
    assertEquals("AuthTokenInvalidError", error.name());
    assertEquals("jwt issuer invalid. expected: " + ISSUER, error.getMessage());
  }

  @Test
  void theAudienceMustBeOneOfTheConfiguredOnes() throws Exception {
    KeyPair idp = JwtSecurityTest.rsa();
    JwtAuthEngine engine = engine(Map.of("mp.jwt.verify.publickey", publicPem(idp),
        "mp.jwt.verify.audiences", "chat,admin"));
    assertEquals("user-42", verified(engine, idpToken("RS256", idp.getPrivate(), null,
        claims -> claims.setAudience("admin"))).get("sub"));
    AGError error = refused(engine, idpToken("RS256", idp.getPrivate(), null, claims -> claims.setAudience("billing")));
    assertEquals("AuthTokenInvalidError", error.name());
    assertEquals("jwt audience invalid. expected: chat or admin", error.getMessage());
    assertEquals("jwt audience invalid. expected: chat or admin",
        refused(engine, idpToken("RS256", idp.getPrivate(), null)).getMessage());
  }

  @Test
  void expiredProviderTokensAreExpiredErrorsAfterTheClockSkew() throws Exception {
    KeyPair idp = JwtSecurityTest.rsa();
    long exp = now() - 30;
    String expired = idpToken("RS256", idp.getPrivate(), null, claims -> {
      claims.setIssuedAt(NumericDate.fromSeconds(exp - 600));
      claims.setExpirationTime(NumericDate.fromSeconds(exp));
    });
    // mp.jwt.verify.clock.skew is 60 s by default.
    JwtAuthEngine lenient = engine(Map.of("mp.jwt.verify.publickey", publicPem(idp)));
    assertEquals("user-42", verified(lenient, expired).get("sub"));

    // (0 would not do: SmallRye keeps its default of 60 s unless the skew is positive.)
    JwtAuthEngine strict = engine(Map.of("mp.jwt.verify.publickey", publicPem(idp), "mp.jwt.verify.clock.skew", "10"));
    AGError error = refused(strict, expired);
    assertEquals("AuthTokenExpiredError", error.name());
    assertEquals("jwt expired", error.getMessage());
    assertEquals(Instant.ofEpochSecond(exp), error.get("expiry"));
  }

  @Test
  void notYetValidProviderTokensAreNotBeforeErrors() throws Exception {
    KeyPair idp = JwtSecurityTest.rsa();
    long nbf = now() + 600;
    JwtAuthEngine engine = engine(Map.of("mp.jwt.verify.publickey", publicPem(idp)));
    AGError error = refused(engine, idpToken("RS256", idp.getPrivate(), null,
        claims -> claims.setNotBefore(NumericDate.fromSeconds(nbf))));
    assertEquals("AuthTokenNotBeforeError", error.name());
    assertEquals("jwt not active", error.getMessage());
    assertEquals(Instant.ofEpochSecond(nbf), error.get("date"));
  }

  @Test
  void theTokenAgeLimitsHowLongAgoATokenWasIssued() throws Exception {
    KeyPair idp = JwtSecurityTest.rsa();
    JwtAuthEngine engine = engine(Map.of("mp.jwt.verify.publickey", publicPem(idp), "mp.jwt.verify.token.age", "60"));
    assertEquals("user-42", verified(engine, idpToken("RS256", idp.getPrivate(), null)).get("sub"));
    long iat = now() - 120;
    AGError error = refused(engine, idpToken("RS256", idp.getPrivate(), null,
        claims -> claims.setIssuedAt(NumericDate.fromSeconds(iat))));
    assertEquals("AuthTokenExpiredError", error.name());
    assertEquals("jwt token age exceeded", error.getMessage());
    assertEquals(Instant.ofEpochSecond(iat + 60), error.get("expiry"));
  }

  @Test
  void aTokenWithoutAPrincipalIsRefusedUnlessSmallRyeDefaultsOne() throws Exception {
    KeyPair idp = JwtSecurityTest.rsa();
    String anonymous = idpToken("RS256", idp.getPrivate(), null, claims -> {
      claims.unsetClaim("sub");
      claims.unsetClaim("upn");
    });
    AGError error = refused(engine(Map.of("mp.jwt.verify.publickey", publicPem(idp))), anonymous);
    assertEquals("AuthTokenInvalidError", error.name());
    assertTrue(error.getMessage().contains("sub, upn or preferred_username"), error.getMessage());

    // smallrye.jwt.claims.sub: SmallRye's principal gets a default; the socket's authToken stays the token's.
    Map<String, Object> claims = verified(engine(Map.of("mp.jwt.verify.publickey", publicPem(idp),
        "smallrye.jwt.claims.sub", "guest")), anonymous);
    assertFalse(claims.containsKey("sub"));
    assertEquals(List.of("chat", "admin"), claims.get("groups"));
  }

  @Test
  void smallRyesRequiredClaimsApply() throws Exception {
    KeyPair idp = JwtSecurityTest.rsa();
    JwtAuthEngine engine = engine(Map.of("mp.jwt.verify.publickey", publicPem(idp),
        "smallrye.jwt.required.claims", "tenant"));
    assertEquals("AuthTokenInvalidError", refused(engine, idpToken("RS256", idp.getPrivate(), null)).name());
    assertEquals("acme", verified(engine, idpToken("RS256", idp.getPrivate(), null,
        claims -> claims.setClaim("tenant", "acme"))).get("tenant"));
  }

  @Test
  void aProviderTokenWithAMalformedClaimIsTheProvidersInvalidToken() throws Exception {
    KeyPair idp = JwtSecurityTest.rsa();
    JwtAuthEngine engine = engine(Map.of("mp.jwt.verify.publickey", publicPem(idp)));
    AGError error = refused(engine, idpToken("RS256", idp.getPrivate(), null, claims -> claims.setClaim("exp", "soon")));
    assertEquals("AuthTokenInvalidError", error.name());
    assertTrue(error.getMessage().contains("exp"), error.getMessage());
    assertFalse(error.getMessage().contains("eyJ"), "the message does not quote the token: " + error.getMessage());
  }

  // ---- encrypted tokens: mp.jwt.decrypt.key.location ----

  @Test
  void encryptedTokensAreDecryptedWithTheDecryptionKey(@TempDir Path dir) throws Exception {
    KeyPair signing = JwtSecurityTest.rsa();
    KeyPair encryption = JwtSecurityTest.rsa();
    Path decryptionKey = dir.resolve("decrypt.pem");
    Files.writeString(decryptionKey, JwtSecurityTest.pem("PRIVATE KEY", encryption.getPrivate().getEncoded()));
    JwtAuthEngine engine = engine(Map.of(
        "mp.jwt.verify.publickey", publicPem(signing),
        "mp.jwt.decrypt.key.location", decryptionKey.toString(),
        "mp.jwt.verify.issuer", ISSUER));

    String signed = idpToken("RS256", signing.getPrivate(), null);
    Map<String, Object> claims = verified(engine, encrypt(signed, encryption));
    assertEquals("user-42", claims.get("sub"));
    assertEquals(ISSUER, claims.get("iss"));

    // Encrypted for another key: not the provider's, and the server's own answer to five parts.
    AGError error = refused(engine, encrypt(signed, JwtSecurityTest.rsa()));
    assertEquals("AuthTokenInvalidError", error.name());
    assertEquals("jwt malformed", error.getMessage());
    // The signed token inside must be the provider's too.
    String forged = idpToken("RS256", JwtSecurityTest.rsa().getPrivate(), null);
    assertEquals("jwt malformed", refused(engine, encrypt(forged, encryption)).getMessage());
    // Without a decryption key, a JWE is not tried as the provider's.
    JwtAuthEngine signedOnly = engine(Map.of("mp.jwt.verify.publickey", publicPem(signing)));
    assertEquals("jwt malformed", refused(signedOnly, encrypt(signed, encryption)).getMessage());
  }

  static String encrypt(String signedToken, KeyPair recipient) throws Exception {
    JsonWebEncryption jwe = new JsonWebEncryption();
    jwe.setAlgorithmHeaderValue(KeyManagementAlgorithmIdentifiers.RSA_OAEP_256);
    jwe.setEncryptionMethodHeaderParameter(ContentEncryptionAlgorithmIdentifiers.AES_256_GCM);
    jwe.setContentTypeHeaderValue("JWT");
    jwe.setPayload(signedToken);
    jwe.setKey(recipient.getPublic());
    return jwe.getCompactSerialization();
  }

  // ---- what is not the provider's ----

  @Test
  void tokensOfAnotherProviderOrForgedWithThePublicKeyGetTheServersOwnError() throws Exception {
    KeyPair idp = JwtSecurityTest.rsa();
    KeyPair stranger = JwtSecurityTest.rsa();
    String publicPem = publicPem(idp);
    JwtAuthEngine engine = engine(Map.of("mp.jwt.verify.publickey", publicPem));

    AGError strangers = refused(engine, idpToken("RS256", stranger.getPrivate(), null));
    assertEquals("AuthTokenInvalidError", strangers.name());
    assertEquals("invalid algorithm", strangers.getMessage());

    // Key confusion: HS256 keyed with the provider's public key.
    String confused = idpToken("HS256", new HmacKey(publicPem.getBytes(StandardCharsets.UTF_8)), null);
    AGError error = refused(engine, confused);
    assertEquals("AuthTokenInvalidError", error.name());
    assertEquals("invalid signature", error.getMessage());

    // Own failures that are not about the key are never the provider's to judge.
    assertEquals("jwt malformed", refused(engine, "abc").getMessage());
  }

  // ---- configuration ----

  @Test
  void withoutMpJwtKeysThereIsNoProvider() {
    assertNull(MpJwtConfig.provider(Map.of()));
    assertNull(MpJwtConfig.provider(Map.of("mp.jwt.verify.issuer", ISSUER, "mp.jwt.verify.clock.skew", "5")));
  }

  @Test
  void aConfigurationSmallRyeCannotUseFailsAtStartupNamingTheKey(@TempDir Path dir) {
    IllegalArgumentException notAKey = assertThrows(IllegalArgumentException.class,
        () -> MpJwtConfig.provider(Map.of("mp.jwt.verify.publickey", "not a key")));
    assertTrue(notAKey.getMessage().contains("verification key"), notAKey.getMessage());

    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> MpJwtConfig.provider(
        Map.of("mp.jwt.verify.publickey.location", dir.resolve("missing.pem").toString())));
    assertTrue(missing.getMessage().contains("mp.jwt.verify.publickey.location"), missing.getMessage());

    IllegalArgumentException skew = assertThrows(IllegalArgumentException.class, () -> MpJwtConfig.provider(
        Map.of("mp.jwt.verify.publickey", "x", "mp.jwt.verify.clock.skew", "soon")));
    assertTrue(skew.getMessage().contains("mp.jwt.verify.clock.skew"), skew.getMessage());

    Map<String, String> badAlgorithm = new HashMap<>(Map.of("mp.jwt.verify.publickey", "x"));
    badAlgorithm.put("mp.jwt.verify.publickey.algorithm", "XS256");
    IllegalArgumentException algorithm = assertThrows(IllegalArgumentException.class,
        () -> MpJwtConfig.provider(badAlgorithm));
    assertTrue(algorithm.getMessage().contains("mp.jwt.verify.publickey.algorithm"), algorithm.getMessage());
  }

  @Test
  void theKeyServerBeingDownRefusesProviderTokensButNotOwnOnes() throws Exception {
    // A port nothing listens on: SmallRye cannot load the keys, so no token is the provider's.
    int port;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    JwtAuthEngine engine = engine(Map.of("mp.jwt.verify.publickey.location", "http://127.0.0.1:" + port + "/jwks"));
    KeyPair idp = JwtSecurityTest.rsa();
    assertEquals("invalid algorithm", refused(engine, idpToken("RS256", idp.getPrivate(), null)).getMessage());
    String own = engine.signToken(JwtSecurityTest.claims("username", "a"), null).toCompletableFuture().join();
    assertEquals("a", verified(engine, own).get("username"));
  }
}
