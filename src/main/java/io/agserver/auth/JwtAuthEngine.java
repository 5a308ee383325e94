package io.agserver.auth;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

import org.eclipse.microprofile.config.Config;

import io.agserver.AGServerSocket;
import io.agserver.config.AGServerOptions;
import io.agserver.protocol.AGError;

/**
 * The default auth engine: the server's own tokens exactly as socketcluster-server's
 * jsonwebtoken signs and verifies them ({@link JwtKeys}: authKey or a key pair; tokens Node's
 * server and this one accept from each other), and, when MicroProfile JWT keys are configured,
 * the identity provider's tokens ({@link MpJwtVerifier}). Signatures are jose4j's (the JOSE
 * library of SmallRye JWT). A token that fails the server's own keys only by its signature or
 * algorithm is tried as the provider's; if it is not the provider's either, the client sees the
 * server's own error, as the original reports it.
 *
 * <p>Both operations complete before they return, except provider tokens whose keys come from a
 * URL.
 */
public class JwtAuthEngine implements AuthEngine {

  /** The own-key failures after which a token may still be the identity provider's. */
  private static final Set<String> NOT_OUR_KEY = Set.of("invalid algorithm", "invalid signature");

  private final JwtKeys keys;
  private final MpJwtVerifier identityProvider;

  public JwtAuthEngine(JwtKeys keys) {
    this(keys, null);
  }

  /** @param identityProvider null for none */
  public JwtAuthEngine(JwtKeys keys, MpJwtVerifier identityProvider) {
    this.keys = keys;
    this.identityProvider = identityProvider;
  }

  /** The server's options, and MicroProfile JWT's {@code mp.jwt.verify.*} keys from {@code config}. */
  public static JwtAuthEngine fromConfig(AGServerOptions options, Config config) {
    return new JwtAuthEngine(JwtKeys.from(options), MpJwtVerifier.fromConfig(config));
  }

  public JwtKeys keys() {
    return keys;
  }

  public MpJwtVerifier identityProvider() {
    return identityProvider;
  }

  @Override
  public CompletionStage<String> signToken(Map<String, Object> claims, AGServerSocket socket) {
    try {
      return CompletableFuture.completedFuture(Jws.sign(claims, keys.signAlgorithm(), keys.signingKey()));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public CompletionStage<Map<String, Object>> verifyToken(String signedToken, AGServerSocket socket) {
    AGError own;
    try {
      return CompletableFuture.completedFuture(
          Jws.verify(signedToken, keys.verificationKey(), keys.verifyAlgorithms(), nowSeconds()));
    } catch (AGError e) {
      own = e;
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (identityProvider == null || !isForeignKeyFailure(own)) {
      return CompletableFuture.failedFuture(own);
    }
    return identityProvider.verify(signedToken).exceptionallyCompose(failure -> {
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null
          ? failure.getCause() : failure;
      return CompletableFuture.failedFuture(cause instanceof MpJwtVerifier.NotIssuedHere ? own : cause);
    });
  }

  private static boolean isForeignKeyFailure(AGError error) {
    String message = error.getMessage() == null ? "" : error.getMessage();
    return NOT_OUR_KEY.contains(message) || message.startsWith("secretOrPublicKey must be")
        || message.startsWith("\"alg\" parameter");
  }

  static long nowSeconds() {
    return Math.floorDiv(System.currentTimeMillis(), 1000);
  }
}
