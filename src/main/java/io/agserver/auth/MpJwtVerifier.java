package io.agserver.auth;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Function;

import org.eclipse.microprofile.config.Config;
import org.jose4j.jwk.HttpsJwks;
import org.jose4j.jwk.JsonWebKey;
import org.jose4j.jwk.JsonWebKeySet;
import org.jose4j.jwt.NumericDate;
import org.jose4j.jwt.consumer.ErrorCodes;
import org.jose4j.jwa.AlgorithmConstraints;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.MalformedClaimException;
import org.jose4j.jwt.consumer.InvalidJwtException;
import org.jose4j.jwt.consumer.JwtConsumer;
import org.jose4j.jwt.consumer.JwtConsumerBuilder;
import org.jose4j.jwt.consumer.JwtContext;
import org.jose4j.keys.resolvers.HttpsJwksVerificationKeyResolver;
import org.jose4j.keys.resolvers.JwksVerificationKeyResolver;
import org.jose4j.keys.resolvers.VerificationKeyResolver;
import org.jose4j.lang.JoseException;

import io.agserver.protocol.AGError;

/**
 * Tokens of the application's identity provider, verified as MicroProfile JWT does, from its
 * standard keys (read through MicroProfile Config, without the runtime's mpJwt feature):
 * <ul>
 *   <li>{@code mp.jwt.verify.publickey}: the key itself: PEM (armored or bare base64), a JWK or
 *       a JWK set;</li>
 *   <li>{@code mp.jwt.verify.publickey.location}: where it is: a file path, {@code file:},
 *       {@code classpath:} (or a bare resource name), or an {@code http(s)} JWK set URL (fetched
 *       and cached by jose4j, off the socket's thread);</li>
 *   <li>{@code mp.jwt.verify.publickey.algorithm} (RS256 by default; a comma-separated list is
 *       allowed), {@code mp.jwt.verify.issuer}, {@code mp.jwt.verify.audiences},
 *       {@code mp.jwt.verify.clock.skew} (60 s by default), {@code mp.jwt.verify.token.age}.</li>
 * </ul>
 * The algorithms only ever come from this configuration. The checks are those of SmallRye JWT's
 * token parser (DefaultJWTTokenParser), on the same jose4j JwtConsumer it builds: {@code exp} is
 * required, {@code iss} and {@code aud} must match when configured, {@code iat} must be recent
 * enough with a token age, and a principal claim ({@code sub}, {@code upn} or
 * {@code preferred_username}) is required. (SmallRye's parser itself cannot run here: it needs the
 * MicroProfile JWT API, whose Claims enum needs JSON-P, which the runtime offers only with
 * features we do not enable; the tests check that it agrees with this class.)
 */
public final class MpJwtVerifier {

  private static final String PREFIX = "mp.jwt.verify.";

  private final JwtConsumer consumer;
  private final boolean remote;
  private final String issuer;
  private final Set<String> audiences;
  private final Long tokenAge;
  private final int clockSkew;

  private MpJwtVerifier(Settings settings, PublicKey key, VerificationKeyResolver resolver, boolean remote) {
    JwtConsumerBuilder builder = new JwtConsumerBuilder();
    if (key != null) {
      builder.setVerificationKey(key);
    } else {
      builder.setVerificationKeyResolver(resolver);
    }
    builder.setJwsAlgorithmConstraints(
        new AlgorithmConstraints(AlgorithmConstraints.ConstraintType.PERMIT, settings.algorithms.toArray(String[]::new)));
    builder.setRequireExpirationTime();
    if (settings.tokenAge != null) {
      builder.setRequireIssuedAt();
    }
    if (settings.issuer != null) {
      builder.setExpectedIssuer(settings.issuer);
    }
    if (settings.clockSkew > 0) {
      builder.setAllowedClockSkewInSeconds(settings.clockSkew);
    }
    if (settings.audiences != null) {
      builder.setExpectedAudience(settings.audiences.toArray(String[]::new));
    } else {
      builder.setSkipDefaultAudienceValidation();
    }
    this.consumer = builder.build();
    this.remote = remote;
    this.issuer = settings.issuer;
    this.audiences = settings.audiences;
    this.tokenAge = settings.tokenAge;
    this.clockSkew = settings.clockSkew;
  }

  /** The mp.jwt.verify.* values besides the key. */
  private static final class Settings {
    Set<String> algorithms = new LinkedHashSet<>();
    String issuer;
    Set<String> audiences;
    int clockSkew;
    Long tokenAge;
  }

  /** From MicroProfile Config; null when no {@code mp.jwt.verify.publickey(.location)} is set. */
  public static MpJwtVerifier fromConfig(Config config) {
    return from(key -> config.getOptionalValue(key, String.class));
  }

  /** From a lookup of full keys to raw values; null when no public key is configured. */
  public static MpJwtVerifier from(Function<String, Optional<String>> lookup) {
    Optional<String> content = value(lookup, "publickey");
    Optional<String> location = value(lookup, "publickey.location");
    if (content.isEmpty() && location.isEmpty()) {
      return null;
    }
    Settings settings = new Settings();
    for (String name : value(lookup, "publickey.algorithm").orElse("RS256").split(",")) {
      if (name.isBlank()) {
        continue;
      }
      String trimmed = name.trim().toUpperCase(Locale.ROOT);
      if (!JwtKeys.ALGORITHMS.contains(trimmed) || trimmed.startsWith("HS")) {
        throw new IllegalArgumentException("Invalid value '" + name + "' for " + PREFIX
            + "publickey.algorithm: expected RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or ES512");
      }
      settings.algorithms.add(trimmed);
    }
    settings.issuer = value(lookup, "issuer").orElse(null);
    value(lookup, "audiences").ifPresent(list -> {
      Set<String> audiences = new LinkedHashSet<>();
      for (String audience : list.split(",")) {
        if (!audience.isBlank()) {
          audiences.add(audience.trim());
        }
      }
      settings.audiences = audiences;
    });
    settings.clockSkew = (int) seconds(lookup, "clock.skew", 60);
    if (value(lookup, "token.age").isPresent()) {
      settings.tokenAge = seconds(lookup, "token.age", 0);
    }

    if (content.isPresent()) {
      return keyMaterial(settings, content.get(), PREFIX + "publickey");
    }
    String where = location.get();
    String lower = where.toLowerCase(Locale.ROOT);
    if (lower.startsWith("https://") || lower.startsWith("http://")) {
      HttpsJwks jwks = new HttpsJwks(where);
      return new MpJwtVerifier(settings, null, new HttpsJwksVerificationKeyResolver(jwks), true);
    }
    return keyMaterial(settings, readLocation(where), PREFIX + "publickey.location");
  }

  /**
   * Verifies an identity provider's token and completes with its claims (the token's payload as
   * JSON has it). Fails with an AGError: AuthTokenExpiredError, AuthTokenNotBeforeError or
   * AuthTokenInvalidError; a failure that only says the token is not this provider's (its
   * signature, algorithm or key) is a {@link NotIssuedHere}.
   */
  public CompletionStage<Map<String, Object>> verify(String token) {
    if (remote) {
      return CompletableFuture.supplyAsync(() -> verifyNow(token), ForkJoinPool.commonPool());
    }
    try {
      return CompletableFuture.completedFuture(verifyNow(token));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private Map<String, Object> verifyNow(String token) {
    JwtContext jwt;
    try {
      jwt = consumer.process(token);
    } catch (InvalidJwtException e) {
      throw translate(e);
    }
    JwtClaims claims = jwt.getJwtClaims();
    try {
      if (tokenAge != null) {
        long now = System.currentTimeMillis() / 1000;
        long iat = claims.getIssuedAt().getValue();
        if (now - iat > tokenAge + clockSkew) {
          throw AGError.authTokenExpired("jwt token age exceeded", null)
              .with("expiry", Jws.date(iat + tokenAge));
        }
      }
      if (claims.getClaimValue("sub") == null && claims.getClaimValue("upn") == null
          && claims.getClaimValue("preferred_username") == null) {
        throw AGError.authTokenInvalid("jwt principal claim (sub, upn or preferred_username) is required");
      }
    } catch (MalformedClaimException e) {
      throw AGError.authTokenInvalid(e.getMessage());
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> payload = (Map<String, Object>) Jws.decode(token).payload();
    return payload;
  }

  /** The token was not signed by this provider (nor, as far as we know, by anyone we trust). */
  public static final class NotIssuedHere extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotIssuedHere(String message, Throwable cause) {
      super(message, cause, false, false);
    }
  }

  private RuntimeException translate(InvalidJwtException invalid) {
    Throwable root = invalid;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    if (root instanceof org.jose4j.lang.UnresolvableKeyException) {
      return new NotIssuedHere("no key of the identity provider matches the token", invalid);
    }
    JwtContext jwt = invalid.getJwtContext();
    if (invalid.hasExpired()) {
      return AGError.authTokenExpired("jwt expired", null).with("expiry", date(jwt, "exp"));
    }
    if (invalid.hasErrorCode(ErrorCodes.NOT_YET_VALID)) {
      return AGError.authTokenNotBefore("jwt not active", null).with("date", date(jwt, "nbf"));
    }
    if (invalid.hasErrorCode(ErrorCodes.SIGNATURE_INVALID) || invalid.hasErrorCode(ErrorCodes.SIGNATURE_MISSING)
        || jwt == null) {
      return new NotIssuedHere("invalid signature", invalid);
    }
    if (invalid.hasErrorCode(ErrorCodes.ISSUER_INVALID) || invalid.hasErrorCode(ErrorCodes.ISSUER_MISSING)) {
      return AGError.authTokenInvalid("jwt issuer invalid. expected: " + issuer);
    }
    if (invalid.hasErrorCode(ErrorCodes.AUDIENCE_INVALID) || invalid.hasErrorCode(ErrorCodes.AUDIENCE_MISSING)) {
      return AGError.authTokenInvalid("jwt audience invalid. expected: " + String.join(" or ", audiences));
    }
    if (invalid.hasErrorCode(ErrorCodes.EXPIRATION_MISSING)) {
      return AGError.authTokenInvalid("jwt exp claim is required");
    }
    String detail = invalid.getErrorDetails().isEmpty() ? "invalid token"
        : invalid.getErrorDetails().get(0).getErrorMessage();
    if (detail != null && detail.contains("algorithm")) {
      return new NotIssuedHere("invalid algorithm", invalid);
    }
    return AGError.authTokenInvalid(detail);
  }

  private static Object date(JwtContext jwt, String claim) {
    if (jwt == null) {
      return null;
    }
    try {
      NumericDate value = "exp".equals(claim) ? jwt.getJwtClaims().getExpirationTime()
          : jwt.getJwtClaims().getNotBefore();
      return value == null ? null : Jws.date(value.getValue());
    } catch (org.jose4j.jwt.MalformedClaimException e) {
      return null;
    }
  }

  private static MpJwtVerifier keyMaterial(Settings settings, String material, String key) {
    String text = material.trim();
    try {
      if (text.startsWith("{")) {
        List<JsonWebKey> keys = text.contains("\"keys\"")
            ? new JsonWebKeySet(text).getJsonWebKeys()
            : List.of(JsonWebKey.Factory.newJwk(text));
        return new MpJwtVerifier(settings, null, new JwksVerificationKeyResolver(new ArrayList<>(keys)), false);
      }
      PublicKey publicKey = text.contains("-----BEGIN")
          ? PemKeys.publicKey(text)
          : PemKeys.publicKeyFromSpki(Base64.getMimeDecoder().decode(text));
      return new MpJwtVerifier(settings, publicKey, null, false);
    } catch (JoseException | GeneralSecurityException | IllegalArgumentException e) {
      throw new IllegalArgumentException("Invalid value for " + key
          + ": expected a PEM or base64 public key, a JWK or a JWK set (" + e.getMessage() + ")", e);
    }
  }

  private static String readLocation(String location) {
    try {
      if (location.startsWith("classpath:")) {
        return resource(location.substring("classpath:".length()), location);
      }
      Path path = Path.of(location.startsWith("file:") ? location.substring("file:".length()) : location);
      if (Files.isRegularFile(path)) {
        return Files.readString(path, StandardCharsets.UTF_8);
      }
      return resource(location, location);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("Invalid value '" + location + "' for " + PREFIX
          + "publickey.location: " + e.getMessage(), e);
    }
  }

  private static String resource(String name, String location) throws IOException {
    String path = name.startsWith("/") ? name.substring(1) : name;
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    if (loader == null) {
      loader = MpJwtVerifier.class.getClassLoader();
    }
    try (InputStream in = loader.getResourceAsStream(path)) {
      if (in == null) {
        throw new IOException("neither a file nor a class path resource: " + location);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static Optional<String> value(Function<String, Optional<String>> lookup, String name) {
    return lookup.apply(PREFIX + name).map(String::trim).filter(v -> !v.isEmpty());
  }

  private static long seconds(Function<String, Optional<String>> lookup, String name, long fallback) {
    Optional<String> raw = value(lookup, name);
    if (raw.isEmpty()) {
      return fallback;
    }
    try {
      long value = Long.parseLong(raw.get());
      if (value < 0) {
        throw new NumberFormatException();
      }
      return value;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("Invalid value '" + raw.get() + "' for " + PREFIX + name
          + ": expected a whole number of seconds");
    }
  }
}
