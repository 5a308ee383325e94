package io.agserver.auth;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

import org.eclipse.microprofile.config.Config;

import io.agserver.AGServerSocket;
import io.agserver.auth.TokenRejection.Kind;
import io.agserver.config.AGServerOptions;

/**
 * The default auth engine: the server's own tokens exactly as socketcluster-server's
 * jsonwebtoken signs and verifies them ({@link JwtKeys}: authKey or a key pair; tokens Node's
 * server and this one accept from each other), and, when MicroProfile JWT keys are configured,
 * the identity provider's tokens ({@link MpJwtVerifier}). Signatures are jose4j's (the JOSE
 * library of SmallRye JWT). A token that fails the server's own keys only by its algorithm, key
 * or signature is tried as the provider's; if it is not the provider's either, the client sees
 * the server's own error, as the original reports it.
 *
 * <p>Both operations complete before they return, except provider tokens whose keys come from a
 * URL.
 */
public class JwtAuthEngine implements AuthEngine {

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
    TokenRejection own;
    try {
      return CompletableFuture.completedFuture(
          Jws.verify(signedToken, keys.verificationKey(), keys.verifyAlgorithms(), nowSeconds()));
    } catch (TokenRejection e) {
      own = e;
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (identityProvider == null || own.kind() != Kind.NOT_SIGNED_HERE) {
      return CompletableFuture.failedFuture(own.error());
    }
    return identityProvider.verify(signedToken).exceptionallyCompose(failure -> {
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null
          ? failure.getCause() : failure;
      return CompletableFuture.failedFuture(cause instanceof MpJwtVerifier.NotIssuedHere ? own.error() : cause);
    });
  }

  static long nowSeconds() {
    return Math.floorDiv(System.currentTimeMillis(), 1000);
  }
}
