package io.agserver.auth.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;

import org.jose4j.jca.ProviderContext;
import org.jose4j.jwa.AlgorithmFactoryFactory;
import org.jose4j.jws.JsonWebSignatureAlgorithm;
import org.jose4j.keys.HmacKey;
import org.junit.jupiter.api.Test;

import io.agserver.config.AGServerOptions;
import io.agserver.protocol.AGError;

/**
 * The server's own tokens: what is refused and with which of the original's errors. The
 * verification algorithms come from the configuration only.
 */
class JwtSecurityTest {

  static final String KEY = "conformance-secret";

  static KeyPair rsa() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    return generator.generateKeyPair();
  }

  static KeyPair ec(String curve) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec(curve));
    return generator.generateKeyPair();
  }

  static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  static String b64(String text) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  /** A token with any header, signed by hand (as an attacker would). */
  static String forge(String headerJson, String payloadJson, String alg, java.security.Key key) throws Exception {
    String input = b64(headerJson) + "." + b64(payloadJson);
    JsonWebSignatureAlgorithm jwa = AlgorithmFactoryFactory.getInstance().getJwsAlgorithmFactory().getAlgorithm(alg);
    byte[] signature = jwa.sign(jwa.prepareForSign(key, new ProviderContext()), input.getBytes(StandardCharsets.US_ASCII));
    return input + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(signature);
  }

  static AGError refused(JwtAuthEngine engine, String token) {
    CompletionException failure = assertThrows(CompletionException.class,
        () -> engine.verifyToken(token, null).toCompletableFuture().join());
    return (AGError) failure.getCause();
  }

  static JwtAuthEngine hs256() {
    return new JwtAuthEngine(JwtKeys.hmac(KEY, "HS256", null));
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

  @Test
  void theServersOwnTokensVerify() {
    JwtAuthEngine engine = hs256();
    String token = engine.signToken(claims("username", "a", "iat", 1000, "exp", now() + 60), null).toCompletableFuture().join();
    assertTrue(token.startsWith(b64("{\"alg\":\"HS256\",\"typ\":\"JWT\"}") + "."));
    assertEquals("a", engine.verifyToken(token, null).toCompletableFuture().join().get("username"));
  }

  @Test
  void algNoneIsRefused() throws Exception {
    String unsigned = b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + b64("{\"username\":\"root\"}") + ".";
    AGError error = refused(hs256(), unsigned);
    assertEquals("AuthTokenInvalidError", error.name());
    assertEquals("jwt signature is required", error.getMessage());
    // Even with a signature part, "none" is never a configured algorithm.
    String withSignature = b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + b64("{\"username\":\"root\"}") + ".AAAA";
    assertEquals("invalid algorithm", refused(hs256(), withSignature).getMessage());
    assertThrows(IllegalArgumentException.class, () -> JwtKeys.hmac(KEY, "none", null));
    assertThrows(IllegalArgumentException.class, () -> JwtKeys.hmac(KEY, null, List.of("HS256", "none")));
  }

  @Test
  void hmacWithThePublicKeyIsRefusedWhenRs256IsConfigured() throws Exception {
    KeyPair pair = rsa();
    String publicPem = pem("PUBLIC KEY", pair.getPublic().getEncoded());
    String payload = "{\"username\":\"root\",\"exp\":" + (now() + 600) + "}";
    String confused = forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, "HS256",
        new HmacKey(publicPem.getBytes(StandardCharsets.UTF_8)));

    JwtAuthEngine rs256 = new JwtAuthEngine(JwtKeys.keyPair(pair.getPrivate(), pair.getPublic(), "RS256", null));
    AGError error = refused(rs256, confused);
    assertEquals("AuthTokenInvalidError", error.name());
    assertEquals("invalid algorithm", error.getMessage());

    // Even if HS256 were (wrongly) listed, an HMAC is never checked against a public key.
    JwtAuthEngine lenient = new JwtAuthEngine(
        JwtKeys.keyPair(pair.getPrivate(), pair.getPublic(), "RS256", List.of("RS256", "HS256")));
    AGError keyType = refused(lenient, confused);
    assertEquals("secretOrPublicKey must be a symmetric key when using HS256", keyType.getMessage());

    // The real RS256 token passes.
    String good = rs256.signToken(claims("username", "a"), null).toCompletableFuture().join();
    assertEquals("a", rs256.verifyToken(good, null).toCompletableFuture().join().get("username"));
  }

  @Test
  void aTokenSignedWithAnotherKeyIsRefused() throws Exception {
    String other = new JwtAuthEngine(JwtKeys.hmac("another-secret", null, null))
        .signToken(claims("username", "a"), null).toCompletableFuture().join();
    AGError error = refused(hs256(), other);
    assertEquals("AuthTokenInvalidError", error.name());
    assertEquals("invalid signature", error.getMessage());

    KeyPair mine = ec("secp256r1");
    KeyPair theirs = ec("secp256r1");
    JwtAuthEngine es256 = new JwtAuthEngine(JwtKeys.keyPair(mine.getPrivate(), mine.getPublic(), null, null));
    String foreign = new JwtAuthEngine(JwtKeys.keyPair(theirs.getPrivate(), theirs.getPublic(), null, null))
        .signToken(claims("username", "a"), null).toCompletableFuture().join();
    assertEquals("invalid signature", refused(es256, foreign).getMessage());
  }

  @Test
  void anotherAlgorithmThanConfiguredIsRefused() throws Exception {
    String hs512 = forge("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", "{\"username\":\"a\"}", "HS512",
        new HmacKey(KEY.getBytes(StandardCharsets.UTF_8)));
    assertEquals("invalid algorithm", refused(hs256(), hs512).getMessage());
    // Without authAlgorithm/authVerifyAlgorithms, the key's family is accepted, as jsonwebtoken does.
    assertEquals("a", new JwtAuthEngine(JwtKeys.hmac(KEY, null, null)).verifyToken(hs512, null)
        .toCompletableFuture().join().get("username"));
  }

  @Test
  void malformedTokensAreRefused() {
    assertEquals("jwt must be provided", refused(hs256(), "").getMessage());
    assertEquals("jwt malformed", refused(hs256(), "abc").getMessage());
    assertEquals("jwt malformed", refused(hs256(), "a.b.c.d").getMessage());
    assertEquals("invalid token", refused(hs256(), "a.b.c").getMessage());
    assertEquals("invalid token", refused(hs256(), "a+b.c.d").getMessage());
    // A valid-looking header over a payload that is not JSON.
    AGError notJson = refused(hs256(), b64("{\"alg\":\"HS256\",\"typ\":\"JWT\"}") + "." + b64("not json") + ".abc");
    assertEquals("AuthTokenError", notJson.name());
    // Without typ JWT the payload is not parsed first: the signature fails, as in jsonwebtoken.
    assertEquals("invalid signature", refused(hs256(), "eyJhbGciOiJIUzI1NiJ9.bm90anNvbg.abc").getMessage());
  }

  @Test
  void expiredAndNotYetValidTokensAreRefusedWithTheirDates() {
    JwtAuthEngine engine = hs256();
    long exp = now() - 5;
    String expired = engine.signToken(claims("username", "a", "exp", exp), null).toCompletableFuture().join();
    AGError error = refused(engine, expired);
    assertEquals("AuthTokenExpiredError", error.name());
    assertEquals("jwt expired", error.getMessage());
    assertEquals(Instant.ofEpochSecond(exp), error.get("expiry"));

    // jsonwebtoken: expired when now >= exp.
    String atTheSecond = engine.signToken(claims("exp", now()), null).toCompletableFuture().join();
    assertEquals("AuthTokenExpiredError", refused(engine, atTheSecond).name());

    long nbf = now() + 100;
    String early = engine.signToken(claims("username", "a", "nbf", nbf), null).toCompletableFuture().join();
    AGError notBefore = refused(engine, early);
    assertEquals("AuthTokenNotBeforeError", notBefore.name());
    assertEquals("jwt not active", notBefore.getMessage());
    assertEquals(Instant.ofEpochSecond(nbf), notBefore.get("date"));

    String badExp = engine.signToken(claims("exp", "soon"), null).toCompletableFuture().join();
    assertEquals("invalid exp value", refused(engine, badExp).getMessage());
  }

  @Test
  void esSignaturesOfTheWrongSizeAreAnAuthTokenError() throws Exception {
    KeyPair pair = ec("secp256r1");
    JwtAuthEngine es256 = new JwtAuthEngine(JwtKeys.keyPair(pair.getPrivate(), pair.getPublic(), "ES256", null));
    String token = b64("{\"alg\":\"ES256\",\"typ\":\"JWT\"}") + "." + b64("{}") + ".AAAA";
    AGError error = refused(es256, token);
    assertEquals("AuthTokenError", error.name());
    assertEquals("\"ES256\" signatures must be \"64\" bytes, saw \"3\"", error.getMessage());
  }

  @Test
  void keyOptionsAreCheckedAtStartup() throws Exception {
    KeyPair pair = rsa();
    KeyPair other = rsa();
    String privatePem = pem("PRIVATE KEY", pair.getPrivate().getEncoded());
    String publicPem = pem("PUBLIC KEY", pair.getPublic().getEncoded());
    String otherPublicPem = pem("PUBLIC KEY", other.getPublic().getEncoded());

    JwtKeys keys = JwtKeys.from(options(Map.of("authPrivateKey", privatePem.replace("\n", "\\n"),
        "authPublicKey", publicPem, "authAlgorithm", "RS256")));
    assertEquals("RS256", keys.signAlgorithm());
    assertEquals(List.of("RS256"), keys.verifyAlgorithms());

    IllegalArgumentException mismatch = assertThrows(IllegalArgumentException.class, () -> JwtKeys.from(
        options(Map.of("authPrivateKey", privatePem, "authPublicKey", otherPublicPem, "authAlgorithm", "RS256"))));
    assertTrue(mismatch.getMessage().contains("authPublicKey does not verify"), mismatch.getMessage());

    assertThrows(IllegalArgumentException.class, () -> JwtKeys.from(
        options(Map.of("authPrivateKey", privatePem, "authPublicKey", publicPem, "authAlgorithm", "HS256"))));
    assertThrows(IllegalArgumentException.class, () -> JwtKeys.from(
        options(Map.of("authPrivateKey", privatePem, "authPublicKey", publicPem, "authAlgorithm", "ES256"))));
    assertThrows(IllegalArgumentException.class, () -> JwtKeys.from(options(Map.of("authKey", "k", "authAlgorithm", "RS256"))));
    assertThrows(IllegalArgumentException.class, () -> JwtKeys.from(options(Map.of("authAlgorithm", "none"))));
    IllegalArgumentException notPem = assertThrows(IllegalArgumentException.class, () -> JwtKeys.from(
        options(Map.of("authPrivateKey", "/no/such/file.pem", "authPublicKey", publicPem))));
    assertTrue(notPem.getMessage().contains("socketcluster.authPrivateKey"), notPem.getMessage());

    // A random key when none is configured, HS256 as the original.
    assertEquals("HS256", JwtKeys.from(options(Map.of())).signAlgorithm());
    assertEquals(List.of("HS256", "HS384", "HS512"), JwtKeys.from(options(Map.of())).verifyAlgorithms());
    assertEquals(List.of("HS256", "HS512"), JwtKeys.from(options(Map.of("authVerifyAlgorithms", "HS256, HS512"))).verifyAlgorithms());
  }

  @Test
  void smallRsaKeysAreRefusedForSigning() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(1024);
    KeyPair small = generator.generateKeyPair();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> JwtKeys.keyPair(small.getPrivate(), small.getPublic(), "RS256", null));
    assertTrue(e.getMessage().contains("2048"));
  }

  // ---- jose4j's key checks, and where they are relaxed ----

  @Test
  void ownTokensAreTheBytesJsonwebtokenWrites() throws Exception {
    Map<String, Object> claims = claims("username", "a", "iat", 1000, "exp", 2000);
    String expectedInput = b64("{\"alg\":\"HS256\",\"typ\":\"JWT\"}") + "."
        + b64("{\"username\":\"a\",\"iat\":1000,\"exp\":2000}");
    javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
    mac.init(new javax.crypto.spec.SecretKeySpec(KEY.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    String hmac = Base64.getUrlEncoder().withoutPadding()
        .encodeToString(mac.doFinal(expectedInput.getBytes(StandardCharsets.US_ASCII)));
    assertEquals(expectedInput + "." + hmac, hs256().signToken(claims, null).toCompletableFuture().join());

    KeyPair pair = rsa();
    String rs256 = new JwtAuthEngine(JwtKeys.keyPair(pair.getPrivate(), pair.getPublic(), "RS256", null))
        .signToken(claims, null).toCompletableFuture().join();
    String rsInput = b64("{\"alg\":\"RS256\",\"typ\":\"JWT\"}") + "."
        + b64("{\"username\":\"a\",\"iat\":1000,\"exp\":2000}");
    java.security.Signature rsa = java.security.Signature.getInstance("SHA256withRSA");
    rsa.initSign(pair.getPrivate());
    rsa.update(rsInput.getBytes(StandardCharsets.US_ASCII));
    assertEquals(rsInput + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(rsa.sign()), rs256);
  }

  @Test
  void hmacKeysShorterThanTheHashWorkAsInJsonwebtoken() {
    // 18 bytes for HS256 (32 wanted), as the conformance suite's authKey; jose4j alone refuses it.
    assertTrue(!Jws.validatesKey("HS256", new HmacKey(KEY.getBytes(StandardCharsets.UTF_8))));
    JwtAuthEngine engine = new JwtAuthEngine(JwtKeys.hmac("k", null, null));
    for (String alg : List.of("HS256", "HS384", "HS512")) {
      JwtAuthEngine signer = new JwtAuthEngine(JwtKeys.hmac("k", alg, null));
      String token = signer.signToken(claims("username", alg), null).toCompletableFuture().join();
      assertEquals(alg, engine.verifyToken(token, null).toCompletableFuture().join().get("username"));
    }
    // The only check relaxed is the length: long keys are checked as jose4j checks them.
    assertTrue(Jws.validatesKey("HS256", new HmacKey(new byte[32])));
    assertTrue(Jws.validatesKey("RS256", rsaPublicOf(1024)));
    // A non-canonical base64url HMAC is refused, as jwa compares the texts.
    String token = hs256().signToken(claims("username", "a"), null).toCompletableFuture().join();
    String last = token.substring(token.length() - 1);
    String sibling = token.substring(0, token.length() - 1) + (char) (last.charAt(0) ^ 1);
    assertEquals("invalid signature", refused(hs256(), sibling).getMessage());
  }

  static java.security.PublicKey rsaPublicOf(int bits) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(bits);
      return generator.generateKeyPair().getPublic();
    } catch (java.security.GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void rsaPublicKeysUnder2048BitsAreRefusedAtStartup() throws Exception {
    KeyPair pair = rsa();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> JwtKeys.keyPair(pair.getPrivate(), rsaPublicOf(1024), "RS256", null));
    assertTrue(e.getMessage().contains("socketcluster.authPublicKey"), e.getMessage());
    assertTrue(e.getMessage().contains("2048"), e.getMessage());
  }

  // ---- kinds of failure ----

  @Test
  void ownKeyFailuresCarryTheirKindAsAType() throws Exception {
    String other = new JwtAuthEngine(JwtKeys.hmac("another-secret", null, null))
        .signToken(claims("username", "a"), null).toCompletableFuture().join();
    assertEquals(TokenRejection.Kind.NOT_SIGNED_HERE, rejection(other).kind());
    String hs512 = forge("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", "{}", "HS512",
        new HmacKey(KEY.getBytes(StandardCharsets.UTF_8)));
    assertEquals(TokenRejection.Kind.NOT_SIGNED_HERE, rejection(hs512).kind());
    KeyPair pair = rsa();
    String rs256 = forge("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", "{}", "RS256", pair.getPrivate());
    JwtKeys lenient = JwtKeys.hmac(KEY, "HS256", List.of("HS256", "RS256"));
    TokenRejection keyType = assertThrows(TokenRejection.class,
        () -> Jws.verify(rs256, lenient.verificationKey(), lenient.verifyAlgorithms(), now()));
    assertEquals(TokenRejection.Kind.NOT_SIGNED_HERE, keyType.kind());
    assertEquals("secretOrPublicKey must be an asymmetric key when using RS256", keyType.error().getMessage());

    JwtAuthEngine engine = hs256();
    String expired = engine.signToken(claims("exp", now() - 5), null).toCompletableFuture().join();
    assertEquals(TokenRejection.Kind.EXPIRED, rejection(expired).kind());
    String early = engine.signToken(claims("nbf", now() + 100), null).toCompletableFuture().join();
    assertEquals(TokenRejection.Kind.NOT_YET_VALID, rejection(early).kind());
    String badExp = engine.signToken(claims("exp", "soon"), null).toCompletableFuture().join();
    assertEquals(TokenRejection.Kind.INVALID_CLAIMS, rejection(badExp).kind());
    assertEquals(TokenRejection.Kind.MALFORMED, rejection("abc").kind());
    assertEquals(TokenRejection.Kind.MALFORMED, rejection("").kind());
    assertEquals(TokenRejection.Kind.ENCRYPTED, rejection("a.b.c.d.e").kind());
    // The client still sees the original's error, whatever the kind.
    assertEquals("AuthTokenInvalidError", rejection("a.b.c.d.e").error().name());
    assertEquals("jwt malformed", rejection("a.b.c.d.e").error().getMessage());
  }

  static TokenRejection rejection(String token) {
    JwtKeys keys = JwtKeys.hmac(KEY, "HS256", null);
    return assertThrows(TokenRejection.class,
        () -> Jws.verify(token, keys.verificationKey(), keys.verifyAlgorithms(), now()));
  }

  // ---- EC curves by their parameters ----

  /** A secp256k1 key pair made with openssl (the JDK no longer generates keys on this curve). */
  static final String SECP256K1_PRIVATE = "-----BEGIN EC PRIVATE KEY-----\n"
      + "MHQCAQEEIDf1oUJFa1tSVgIYrO2O2lCEHb0x1PpqzhjC968vzANloAcGBSuBBAAK\n"
      + "oUQDQgAEoHSlArE4AsIfabP/esMrBQXSl1fhwqT9yC+++XQy2QKuLFFDsby4EIdx\n"
      + "Bdoa8nr0zYLOgLfqEpAsW51JfcB3WQ==\n"
      + "-----END EC PRIVATE KEY-----\n";
  static final String SECP256K1_PUBLIC = "-----BEGIN PUBLIC KEY-----\n"
      + "MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEoHSlArE4AsIfabP/esMrBQXSl1fhwqT9\n"
      + "yC+++XQy2QKuLFFDsby4EIdxBdoa8nr0zYLOgLfqEpAsW51JfcB3WQ==\n"
      + "-----END PUBLIC KEY-----\n";

  @Test
  void curvesAreNamedByTheirParametersNotTheirSize() throws Exception {
    java.security.interfaces.ECKey k1 = (java.security.interfaces.ECKey) PemKeys.publicKey(SECP256K1_PUBLIC);
    assertEquals(256, k1.getParams().getCurve().getField().getFieldSize());
    assertEquals("secp256k1", JwtKeys.curveName(k1));
    assertEquals("prime256v1", JwtKeys.curveName((java.security.interfaces.ECKey) ec("secp256r1").getPublic()));
    assertEquals("secp384r1", JwtKeys.curveName((java.security.interfaces.ECKey) ec("secp384r1").getPublic()));
    assertEquals("secp521r1", JwtKeys.curveName((java.security.interfaces.ECKey) ec("secp521r1").getPublic()));
  }

  @Test
  void keysOnOtherCurvesAreAConfigurationError() throws Exception {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JwtKeys.from(options(Map.of(
        "authPrivateKey", SECP256K1_PRIVATE, "authPublicKey", SECP256K1_PUBLIC))));
    assertTrue(e.getMessage().contains("socketcluster.authPrivateKey"), e.getMessage());
    assertTrue(e.getMessage().contains("secp256k1"), e.getMessage());
    assertTrue(e.getMessage().contains("prime256v1 (P-256)"), e.getMessage());

    KeyPair p256 = ec("secp256r1");
    IllegalArgumentException publicOnly = assertThrows(IllegalArgumentException.class, () -> JwtKeys.keyPair(
        p256.getPrivate(), PemKeys.publicKey(SECP256K1_PUBLIC), "ES256", null));
    assertTrue(publicOnly.getMessage().contains("socketcluster.authPublicKey"), publicOnly.getMessage());

    // Verifying with such a key (were one to get that far) says what jsonwebtoken says.
    String token = b64("{\"alg\":\"ES256\",\"typ\":\"JWT\"}") + "." + b64("{}") + "." + "A".repeat(86);
    TokenRejection curve = assertThrows(TokenRejection.class,
        () -> Jws.verify(token, PemKeys.publicKey(SECP256K1_PUBLIC), List.of("ES256"), now()));
    assertEquals("\"alg\" parameter \"ES256\" requires curve \"prime256v1\".", curve.error().getMessage());
    assertEquals(TokenRejection.Kind.NOT_SIGNED_HERE, curve.kind());
  }

  // ---- malformed SEC1 keys ----

  @Test
  void malformedSec1KeysAreAClearErrorNamingTheOption() throws Exception {
    byte[] der = Base64.getMimeDecoder().decode(SECP256K1_PRIVATE.replaceAll("-----[A-Z ]+-----", ""));
    java.util.List<byte[]> inputs = new java.util.ArrayList<>();
    for (int length = 0; length < der.length; length++) {
      inputs.add(java.util.Arrays.copyOf(der, length));
    }
    java.util.Random random = new java.util.Random(42);
    for (int i = 0; i < 200; i++) {
      byte[] garbage = new byte[random.nextInt(120)];
      random.nextBytes(garbage);
      if (garbage.length > 0 && random.nextBoolean()) {
        garbage[0] = 0x30;
      }
      inputs.add(garbage);
    }
    // Lengths that point past the end: of the sequence, of the [0] field, of its OID.
    inputs.add(new byte[] {0x30, (byte) 0x82, 0x7f, (byte) 0xff});
    inputs.add(new byte[] {0x30, 0x08, 0x02, 0x01, 0x01, 0x04, 0x00, (byte) 0xa0, 0x7f, 0x06});
    inputs.add(new byte[] {0x30, 0x09, 0x02, 0x01, 0x01, 0x04, 0x00, (byte) 0xa0, 0x02, 0x06, 0x7f});
    inputs.add(new byte[] {0x30, 0x05, 0x02, 0x01, 0x01, 0x04, (byte) 0x84});
    for (byte[] input : inputs) {
      String pem = pem("EC PRIVATE KEY", input);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> JwtKeys.from(options(Map.of("authPrivateKey", pem, "authPublicKey", SECP256K1_PUBLIC))),
          () -> "input " + java.util.HexFormat.of().formatHex(input));
      assertTrue(e.getMessage().contains("socketcluster.authPrivateKey"), e.getMessage());
    }
    assertThrows(java.security.GeneralSecurityException.class,
        () -> PemKeys.curveOf(new byte[] {0x30, 0x06, 0x02, 0x01, 0x01, 0x04, 0x01, 0x00}));
  }

  static AGServerOptions options(Map<String, String> values) {
    return AGServerOptions.from(key -> Optional.ofNullable(values.get(key.substring(AGServerOptions.PREFIX.length()))));
  }
}
