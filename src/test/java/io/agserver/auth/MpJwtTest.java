package io.agserver.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyPair;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.jose4j.jwk.EllipticCurveJsonWebKey;
import org.jose4j.jwk.JsonWebKey;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.keys.HmacKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.agserver.protocol.AGError;
import io.smallrye.jwt.algorithm.SignatureAlgorithm;
import io.smallrye.jwt.auth.principal.DefaultJWTTokenParser;
import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import io.smallrye.jwt.auth.principal.ParseException;

/**
 * Tokens of an identity provider, verified through MicroProfile JWT's standard keys next to the
 * server's own tokens. The provider's key pairs are made by the test.
 */
class MpJwtTest {

  static final String ISSUER = "https://idp.example.com";

  /** A token as an identity provider issues it. */
  static String idpToken(String alg, Key key, String kid, String issuer, long expOffsetSeconds) throws Exception {
    JwtClaims claims = new JwtClaims();
    claims.setIssuer(issuer);
    claims.setSubject("user-42");
    claims.setClaim("upn", "jdoe@example.com");
    claims.setStringListClaim("groups", "chat", "admin");
    claims.setIssuedAtToNow();
    claims.setExpirationTimeMinutesInTheFuture(expOffsetSeconds / 60f);
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

  static JwtAuthEngine engine(Map<String, String> mpConfig) {
    return new JwtAuthEngine(JwtKeys.hmac(JwtSecurityTest.KEY, "HS256", null),
        MpJwtVerifier.from(key -> Optional.ofNullable(mpConfig.get(key))));
  }

  /** SmallRye JWT's own parser, configured as MicroProfile JWT would configure it: the reference. */
  static boolean smallRyeAccepts(String token, java.security.PublicKey key, String alg, String issuer, int clockSkew) {
    JWTAuthContextInfo info = new JWTAuthContextInfo();
    info.setPublicVerificationKey(key);
    info.setSignatureAlgorithm(java.util.Set.of(SignatureAlgorithm.fromAlgorithm(alg)));
    if (issuer != null) {
      info.setIssuedBy(issuer);
    }
    info.setClockSkew(clockSkew);
    try {
      new DefaultJWTTokenParser().parse(token, info);
      return true;
    } catch (ParseException e) {
      return false;
    }
  }

  static AGError refused(JwtAuthEngine engine, String token) {
    return JwtSecurityTest.refused(engine, token);
  }

  @Test
  void rs256TokensOfTheIdentityProviderAuthenticateNextToOwnTokens() throws Exception {
    KeyPair idp = JwtSecurityTest.rsa();
    JwtAuthEngine engine = engine(Map.of(
        "mp.jwt.verify.publickey", JwtSecurityTest.pem("PUBLIC KEY", idp.getPublic().getEncoded()),
        "mp.jwt.verify.issuer", ISSUER));

    String token = idpToken("RS256", idp.getPrivate(), null, ISSUER, 600);
    assertTrue(smallRyeAccepts(token, idp.getPublic(), "RS256", ISSUER, 60));
    Map<String, Object> claims = engine.verifyToken(token, null).toCompletableFuture().join();
    assertEquals("user-42", claims.get("sub"));
    assertEquals("jdoe@example.com", claims.get("upn"));
    assertEquals(List.of("chat", "admin"), claims.get("groups"));
    assertEquals(ISSUER, claims.get("iss"));
    assertNull(claims.get("raw_token"), "the claims are the token's, not SmallRye's additions");

    String own = engine.signToken(JwtSecurityTest.claims("username", "a"), null).toCompletableFuture().join();
    assertEquals("a", engine.verifyToken(own, null).toCompletableFuture().join().get("username"));
  }

  @Test
  void es256TokensVerifyWithAJwkSetSelectedByKid() throws Exception {
    KeyPair first = JwtSecurityTest.ec("secp256r1");
    KeyPair second = JwtSecurityTest.ec("secp256r1");
    EllipticCurveJsonWebKey jwk1 = (EllipticCurveJsonWebKey) JsonWebKey.Factory.newJwk(first.getPublic());
    jwk1.setKeyId("k1");
    EllipticCurveJsonWebKey jwk2 = (EllipticCurveJsonWebKey) JsonWebKey.Factory.newJwk(second.getPublic());
    jwk2.setKeyId("k2");
    String jwks = "{\"keys\":[" + jwk1.toJson() + "," + jwk2.toJson() + "]}";
    JwtAuthEngine engine = engine(Map.of(
        "mp.jwt.verify.publickey", jwks,
        "mp.jwt.verify.publickey.algorithm", "ES256",
        "mp.jwt.verify.issuer", ISSUER));
    assertEquals("user-42", engine.verifyToken(idpToken("ES256", second.getPrivate(), "k2", ISSUER, 600), null)
        .toCompletableFuture().join().get("sub"));
    // Signed by k1's key but naming k2: no key verifies it.
    assertEquals("invalid algorithm", refused(engine, idpToken("ES256", first.getPrivate(), "k2", ISSUER, 600)).getMessage());
    // RS256 is not the configured algorithm.
    KeyPair rsa = JwtSecurityTest.rsa();
    assertEquals("invalid algorithm", refused(engine, idpToken("RS256", rsa.getPrivate(), null, ISSUER, 600)).getMessage());
  }

  @Test
  void theKeyLocationMayBeAFile(@TempDir Path dir) throws Exception {
    KeyPair idp = JwtSecurityTest.ec("secp256r1");
    Path pem = dir.resolve("idp.pem");
    Files.writeString(pem, JwtSecurityTest.pem("PUBLIC KEY", idp.getPublic().getEncoded()), StandardCharsets.US_ASCII);
    assertTrue(smallRyeAccepts(idpToken("ES256", idp.getPrivate(), null, ISSUER, 600), idp.getPublic(), "ES256", null, 60));
    JwtAuthEngine engine = engine(Map.of(
        "mp.jwt.verify.publickey.location", pem.toString(),
        "mp.jwt.verify.publickey.algorithm", "ES256"));
    assertEquals("user-42", engine.verifyToken(idpToken("ES256", idp.getPrivate(), null, ISSUER, 600), null)
        .toCompletableFuture().join().get("sub"));
  }

  @Test
  void theIssuerMustMatch() throws Exception {
    KeyPair idp = JwtSecurityTest.rsa();
    JwtAuthEngine engine = engine(Map.of(
        "mp.jwt.verify.publickey", JwtSecurityTest.pem("PUBLIC KEY", idp.getPublic().getEncoded()),
        "mp.jwt.verify.issuer", ISSUER));
    String evil = idpToken("RS256", idp.getPrivate(), null, "https://evil.example.com", 600);
    assertFalse(smallRyeAccepts(evil, idp.getPublic(), "RS256", ISSUER, 60));
    AGError error = refused(engine, evil);
    assertEquals("AuthTokenInvalidError", error.name());
    assertEquals("jwt issuer invalid. expected: " + ISSUER, error.getMessage());
  }

  @Test
  void expiredProviderTokensAreExpiredErrors() throws Exception {
    KeyPair idp = JwtSecurityTest.rsa();
    JwtAuthEngine engine = engine(Map.of(
        "mp.jwt.verify.publickey", JwtSecurityTest.pem("PUBLIC KEY", idp.getPublic().getEncoded()),
        "mp.jwt.verify.clock.skew", "0"));
    String expired = idpToken("RS256", idp.getPrivate(), null, ISSUER, -120);
    assertFalse(smallRyeAccepts(expired, idp.getPublic(), "RS256", null, 0));
    AGError error = refused(engine, expired);
    assertEquals("AuthTokenExpiredError", error.name());
    assertTrue(error.get("expiry") instanceof java.time.Instant);
  }

  @Test
  void tokensOfAnotherProviderOrForgedWithThePublicKeyGetTheServersOwnError() throws Exception {
    KeyPair idp = JwtSecurityTest.rsa();
    KeyPair stranger = JwtSecurityTest.rsa();
    String publicPem = JwtSecurityTest.pem("PUBLIC KEY", idp.getPublic().getEncoded());
    JwtAuthEngine engine = engine(Map.of("mp.jwt.verify.publickey", publicPem));

    String foreign = idpToken("RS256", stranger.getPrivate(), null, ISSUER, 600);
    assertFalse(smallRyeAccepts(foreign, idp.getPublic(), "RS256", null, 60));
    AGError strangers = refused(engine, foreign);
    assertEquals("AuthTokenInvalidError", strangers.name());
    assertEquals("invalid algorithm", strangers.getMessage());

    // Key confusion: HS256 keyed with the provider's public key.
    String confused = idpToken("HS256", new HmacKey(publicPem.getBytes(StandardCharsets.UTF_8)), null, ISSUER, 600);
    assertFalse(smallRyeAccepts(confused, idp.getPublic(), "RS256", null, 60));
    AGError error = refused(engine, confused);
    assertEquals("AuthTokenInvalidError", error.name());
    assertEquals("invalid signature", error.getMessage());
  }

  @Test
  void withoutMpJwtKeysThereIsNoProvider() {
    assertNull(MpJwtVerifier.from(key -> Optional.empty()));
    assertThrows(IllegalArgumentException.class, () -> MpJwtVerifier.from(
        key -> key.equals("mp.jwt.verify.publickey") ? Optional.of("not a key") : Optional.empty()));
    assertThrows(IllegalArgumentException.class, () -> MpJwtVerifier.from(key -> switch (key) {
      case "mp.jwt.verify.publickey" -> Optional.of("{\"kty\":\"oct\",\"k\":\"AAAA\"}");
      case "mp.jwt.verify.publickey.algorithm" -> Optional.of("HS256");
      default -> Optional.empty();
    }));
  }

  @Test
  void aTokenWithoutAPrincipalIsRefusedAsSmallRyeDoes() throws Exception {
    KeyPair idp = JwtSecurityTest.rsa();
    JwtClaims claims = new JwtClaims();
    claims.setIssuer(ISSUER);
    claims.setExpirationTimeMinutesInTheFuture(5);
    JsonWebSignature jws = new JsonWebSignature();
    jws.setPayload(claims.toJson());
    jws.setAlgorithmHeaderValue("RS256");
    jws.setKey(idp.getPrivate());
    String anonymous = jws.getCompactSerialization();
    assertFalse(smallRyeAccepts(anonymous, idp.getPublic(), "RS256", null, 60));
    JwtAuthEngine engine = engine(Map.of(
        "mp.jwt.verify.publickey", JwtSecurityTest.pem("PUBLIC KEY", idp.getPublic().getEncoded())));
    assertEquals("jwt principal claim (sub, upn or preferred_username) is required",
        refused(engine, anonymous).getMessage());
  }
}
