package io.agserver.auth.jwt;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

import org.eclipse.microprofile.config.Config;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.MalformedClaimException;
import org.jose4j.jwt.NumericDate;
import org.jose4j.jwt.consumer.ErrorCodes;
import org.jose4j.jwt.consumer.InvalidJwtException;
import org.jose4j.jwt.consumer.JwtContext;
import org.jose4j.lang.JoseException;

import io.agserver.auth.jwt.TokenRejection.Kind;
import io.agserver.protocol.AGError;
import io.agserver.codec.JsonCodec;
import io.smallrye.jwt.KeyProvider;
import io.smallrye.jwt.auth.principal.DecryptionKeyLocationResolver;
import io.smallrye.jwt.auth.principal.DefaultJWTTokenParser;
import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import io.smallrye.jwt.auth.principal.KeyLocationResolver;
import io.smallrye.jwt.auth.principal.ParseException;

/**
 * Tokens of the application's identity provider, verified by SmallRye JWT as MicroProfile JWT
 * verifies them, from the standard {@code mp.jwt.*} keys and SmallRye's own
 * {@code smallrye.jwt.*} keys, read through MicroProfile Config as SmallRye documents them
 * ({@link SmallRyeJwtSettings}). SmallRye is a library here: the runtime's MP-JWT security
 * (Liberty's mpJwt feature) is not involved.
 *
 * <p>The socket's authToken is the token's payload as the token has it (for an encrypted token,
 * the decrypted claims): SmallRye's additions for its principal ({@code raw_token}, defaulted
 * {@code sub} or {@code groups}) are not part of it.
 *
 * <p>When keys come from an http(s) location (a JWK set an identity provider publishes, fetched
 * and refreshed by SmallRye), verification may wait for the network, so it runs on this
 * provider's own threads, never on the socket's; with local keys it completes before
 * {@link #verify} returns.
 */
public final class IdentityProvider {

  private static final Logger LOG = Logger.getLogger(IdentityProvider.class.getName());

  private final JWTAuthContextInfo info;
  // One parser for the provider's life: it keeps SmallRye's key resolvers, with their JWK set cache.
  private final DefaultJWTTokenParser parser = new DefaultJWTTokenParser();
  private final Long tokenAge;
  private final boolean decrypts;
  private final Executor executor;

  private IdentityProvider(JWTAuthContextInfo info) {
    // SmallRye reports an exceeded token age only as message text; checked here on the verified
    // claims instead, so that the client gets an AuthTokenExpiredError with its expiry.
    this.tokenAge = info.getTokenAge();
    info.setTokenAge(null);
    this.info = info;
    this.decrypts = info.getDecryptionKeyContent() != null || info.getDecryptionKeyLocation() != null
        || info.getPrivateDecryptionKey() != null || info.getSecretDecryptionKey() != null;
    this.executor = isRemote(info) ? remoteExecutor() : null;
  }

  /**
   * From MicroProfile Config; null when no key to verify or decrypt tokens with is configured
   * ({@code mp.jwt.verify.publickey}, {@code mp.jwt.verify.publickey.location},
   * {@code smallrye.jwt.verify.key.location}, {@code smallrye.jwt.verify.secretkey},
   * {@code mp.jwt.decrypt.key.location}, {@code smallrye.jwt.decrypt.key}): then the server
   * verifies its own tokens only.
   *
   * @throws IllegalArgumentException for a configuration SmallRye refuses, or local key
   *     material in which it finds no key
   */
  public static IdentityProvider fromConfig(Config config) {
    JWTAuthContextInfo info = SmallRyeJwtSettings.contextInfo(config);
    boolean verifies = info.getPublicKeyContent() != null || info.getPublicKeyLocation() != null
        || info.getPublicVerificationKey() != null || info.getSecretKeyContent() != null
        || info.getSecretVerificationKey() != null || info.getKeyProvider() == KeyProvider.AWS_ALB;
    IdentityProvider provider = new IdentityProvider(info);
    if (!verifies && !provider.decrypts) {
      return null;
    }
    if (!verifies) {
      LOG.warning("Only a decryption key is configured for MicroProfile JWT: identity provider tokens are accepted"
          + " when they are encrypted, without a signature, as MicroProfile JWT allows; anyone who has the"
          + " encryption key can make one. Configure mp.jwt.verify.publickey(.location) to require a signature.");
    }
    provider.checkLocalKeys();
    return provider;
  }

  /** Whether encrypted (five-part) tokens may be this provider's. */
  boolean decrypts() {
    return decrypts;
  }

  /**
   * Verifies an identity provider's token and completes with its payload. Fails with a
   * {@link TokenRejection}: {@link Kind#NOT_SIGNED_HERE} when the token is not this provider's
   * (no key of its verifies or decrypts it, or its algorithm is not one configured), else the
   * provider's verdict (expired, not yet valid, invalid claims) with the error the client sees.
   */
  CompletionStage<Map<String, Object>> verify(String token) {
    if (executor != null) {
      return CompletableFuture.supplyAsync(() -> verifyNow(token), executor);
    }
    try {
      return CompletableFuture.completedFuture(verifyNow(token));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private Map<String, Object> verifyNow(String token) {
    JwtClaims claims;
    try {
      JwtContext context = parser.parse(token, info);
      claims = context.getJwtClaims();
    } catch (ParseException e) {
      throw rejection(e);
    }
    if (tokenAge != null) {
      checkTokenAge(claims);
    }
    Object payload = JsonCodec.instance().decode(claims.getRawJson());
    if (!(payload instanceof Map)) {
      throw new TokenRejection(Kind.INVALID_CLAIMS, AGError.authTokenInvalid("invalid token"));
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> map = (Map<String, Object>) payload;
    return map;
  }

  /** SmallRye's rule for mp.jwt.verify.token.age: no more than that many seconds since iat. */
  private void checkTokenAge(JwtClaims claims) {
    NumericDate iat;
    try {
      iat = claims.getIssuedAt();
    } catch (MalformedClaimException e) {
      iat = null;
    }
    if (iat == null) {
      throw new TokenRejection(Kind.INVALID_CLAIMS,
          AGError.authTokenInvalid("jwt iat claim is required with mp.jwt.verify.token.age"));
    }
    long now = System.currentTimeMillis() / 1000;
    if (now - iat.getValue() > tokenAge) {
      throw new TokenRejection(Kind.EXPIRED, AGError.authTokenExpired("jwt token age exceeded", null)
          .with("expiry", Jws.date(iat.getValue() + tokenAge)));
    }
  }

  /** SmallRye's failure as a kind and the client's error, by the types and codes it carries. */
  private TokenRejection rejection(ParseException failure) {
    InvalidJwtException invalid = cause(failure, InvalidJwtException.class);
    if (invalid != null) {
      JwtContext jwt = invalid.getJwtContext();
      if (invalid.hasExpired()) {
        return new TokenRejection(Kind.EXPIRED,
            AGError.authTokenExpired("jwt expired", null).with("expiry", date(jwt, true)));
      }
      if (invalid.hasErrorCode(ErrorCodes.NOT_YET_VALID)) {
        return new TokenRejection(Kind.NOT_YET_VALID,
            AGError.authTokenNotBefore("jwt not active", null).with("date", date(jwt, false)));
      }
      if (invalid.hasErrorCode(ErrorCodes.SIGNATURE_INVALID) || invalid.hasErrorCode(ErrorCodes.SIGNATURE_MISSING)) {
        return notIssuedHere("invalid signature");
      }
      if (invalid.hasErrorCode(ErrorCodes.ISSUER_INVALID) || invalid.hasErrorCode(ErrorCodes.ISSUER_MISSING)) {
        return invalidClaims("jwt issuer invalid. expected: " + info.getIssuedBy());
      }
      if (invalid.hasErrorCode(ErrorCodes.AUDIENCE_INVALID) || invalid.hasErrorCode(ErrorCodes.AUDIENCE_MISSING)) {
        return invalidClaims("jwt audience invalid. expected: " + String.join(" or ", info.getExpectedAudience()));
      }
      if (invalid.hasErrorCode(ErrorCodes.JSON_INVALID) || invalid.hasErrorCode(ErrorCodes.MALFORMED_CLAIM)) {
        // Claims read after the signature (or decryption) succeeded: the provider's token.
        return invalidClaims(detail(invalid));
      }
    }
    // A JOSE failure under the token (its algorithm is not a configured one, no key of the
    // provider resolves or fits it, it does not decrypt): not this provider's token.
    if (cause(failure, JoseException.class) != null) {
      return notIssuedHere("invalid signature");
    }
    if (invalid != null) {
      return invalidClaims(detail(invalid));
    }
    // Checks SmallRye makes on verified claims (iat and exp, smallrye.jwt.time-to-live, ...):
    // its message is the client's.
    return invalidClaims(failure.getMessage());
  }

  /** jose4j's own words for the first problem, without the token it quotes in its message. */
  private static String detail(InvalidJwtException invalid) {
    return invalid.getErrorDetails().isEmpty() ? invalid.getOriginalMessage()
        : invalid.getErrorDetails().get(0).getErrorMessage();
  }

  private static TokenRejection notIssuedHere(String message) {
    return new TokenRejection(Kind.NOT_SIGNED_HERE, AGError.authTokenInvalid(message));
  }

  private static TokenRejection invalidClaims(String message) {
    return new TokenRejection(Kind.INVALID_CLAIMS, AGError.authTokenInvalid(message));
  }

  private static <T extends Throwable> T cause(Throwable failure, Class<T> type) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  private static Instant date(JwtContext jwt, boolean expiry) {
    if (jwt == null) {
      return null;
    }
    try {
      NumericDate value = expiry ? jwt.getJwtClaims().getExpirationTime() : jwt.getJwtClaims().getNotBefore();
      return value == null ? null : Jws.date(value.getValue());
    } catch (MalformedClaimException e) {
      return null;
    }
  }

  // ---- keys ----

  /** Keys that may have to be fetched over the network while a token is verified. */
  private static boolean isRemote(JWTAuthContextInfo info) {
    // SmallRye keeps a location only for http(s) ones; local ones are read into the content.
    return info.getPublicKeyLocation() != null || info.getDecryptionKeyLocation() != null
        || info.getKeyProvider() == KeyProvider.AWS_ALB;
  }

  /**
   * Local key material is read at startup, as SmallRye's resolvers read it, so that a value in
   * which SmallRye finds no key fails the deployment rather than every token.
   */
  private void checkLocalKeys() {
    try {
      if ((info.getPublicKeyContent() != null || info.getSecretKeyContent() != null)
          && info.getKeyProvider() != KeyProvider.AWS_ALB && !new CheckedVerificationKeys(info).found()) {
        throw new IllegalArgumentException("Invalid MicroProfile JWT verification key: no PEM key, certificate, JWK"
            + " or JWK set for " + info.getSignatureAlgorithm() + " in the configured value");
      }
      if (info.getDecryptionKeyContent() != null && !new CheckedDecryptionKeys(info).found()) {
        throw new IllegalArgumentException("Invalid MicroProfile JWT decryption key: no PEM private key, JWK or"
            + " JWK set in the configured value");
      }
    } catch (org.jose4j.lang.UnresolvableKeyException e) {
      throw new IllegalArgumentException("Invalid MicroProfile JWT key: " + e.getMessage(), e);
    }
  }

  /** SmallRye's verification key resolver, asked only whether it found a key. */
  private static final class CheckedVerificationKeys extends KeyLocationResolver {
    CheckedVerificationKeys(JWTAuthContextInfo info) throws org.jose4j.lang.UnresolvableKeyException {
      super(info);
    }

    boolean found() {
      return key != null || jsonWebKeys != null && !jsonWebKeys.isEmpty();
    }
  }

  /** SmallRye's decryption key resolver, asked only whether it found a key. */
  private static final class CheckedDecryptionKeys extends DecryptionKeyLocationResolver {
    CheckedDecryptionKeys(JWTAuthContextInfo info) throws org.jose4j.lang.UnresolvableKeyException {
      super(info);
    }

    boolean found() {
      return key != null || jsonWebKeys != null && !jsonWebKeys.isEmpty();
    }
  }

  /**
   * Threads for verifications that may wait on a key server: as many as cores, gone when idle.
   * They carry the class loader of the application that made the provider, which SmallRye uses
   * to find its services and class path resources.
   */
  private static Executor remoteExecutor() {
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    AtomicInteger count = new AtomicInteger();
    ThreadFactory threads = task -> {
      Thread thread = new Thread(task, "agserver-identity-provider-" + count.incrementAndGet());
      thread.setDaemon(true);
      thread.setContextClassLoader(loader);
      return thread;
    };
    int size = Math.max(2, Runtime.getRuntime().availableProcessors());
    ThreadPoolExecutor executor = new ThreadPoolExecutor(size, size, 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), threads);
    executor.allowCoreThreadTimeOut(true);
    return executor;
  }
}
