package io.agserver.auth.jwt;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

import org.eclipse.microprofile.config.Config;

import io.agserver.auth.AuthEngine;
import io.agserver.AGServerSocket;
import io.agserver.auth.jwt.TokenRejection.Kind;
import io.agserver.config.AGServerOptions;

/**
 * The default auth engine: the server's own tokens exactly as socketcluster-server's
 * jsonwebtoken signs and verifies them ({@link JwtKeys}: authKey or a key pair; tokens Node's
 * server and this one accept from each other), signed and verified by jose4j; and, when
 * MicroProfile JWT keys are configured, the identity provider's tokens, verified by SmallRye JWT
 * ({@link IdentityProvider}). A token that fails the server's own keys only by its algorithm, key
 * or signature (or that is encrypted, when the provider decrypts) is tried as the provider's; if it
 * is not the provider's either, the client sees the server's own error, as the original reports
 * it.
 *
 * <p>Both operations complete before they return, except provider tokens whose keys come from a
 * URL.
 */
public class JwtAuthEngine implements AuthEngine {

  private final JwtKeys keys;
  private final IdentityProvider identityProvider;

  public JwtAuthEngine(JwtKeys keys) {
    this(keys, null);
  }

  /** @param identityProvider null for none */
  public JwtAuthEngine(JwtKeys keys, IdentityProvider identityProvider) {
    this.keys = keys;
    this.identityProvider = identityProvider;
  }

  /**
   * The server's options, and MicroProfile JWT's {@code mp.jwt.*} and SmallRye JWT's
   * {@code smallrye.jwt.*} keys from {@code config}.
   */
  public static JwtAuthEngine fromConfig(AGServerOptions options, Config config) {
    return new JwtAuthEngine(JwtKeys.from(options), IdentityProvider.fromConfig(config));
  }

  public JwtKeys keys() {
    return keys;
  }

  /** The identity provider whose tokens are accepted too; null for none. */
  public IdentityProvider identityProvider() {
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
    if (!mayBeTheProviders(own.kind())) {
      return CompletableFuture.failedFuture(own.error());
    }
    return identityProvider.verify(signedToken).exceptionallyCompose(failure -> {
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null
          ? failure.getCause() : failure;
      if (cause instanceof TokenRejection provider) {
        return CompletableFuture.failedFuture(provider.kind() == Kind.NOT_SIGNED_HERE ? own.error() : provider.error());
      }
      return CompletableFuture.failedFuture(cause);
    });
  }

  /** Whether a token the server's own keys refused for this reason may be the identity provider's. */
  private boolean mayBeTheProviders(Kind own) {
    return identityProvider != null
        && (own == Kind.NOT_SIGNED_HERE || own == Kind.ENCRYPTED && identityProvider.decrypts());
  }

  static long nowSeconds() {
    return Math.floorDiv(System.currentTimeMillis(), 1000);
  }
}
