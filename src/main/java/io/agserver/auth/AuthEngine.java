package io.agserver.auth;

import java.util.Map;
import java.util.concurrent.CompletionStage;

import io.agserver.AGServerSocket;

/**
 * Signs and verifies the JSON Web Tokens that authenticate sockets: the {@code authEngine} of
 * socketcluster-server. The default is {@link JwtAuthEngine}; an application replaces it
 * with a CDI bean implementing this interface, or with {@code AGServer.setAuthEngine}.
 *
 * <p>Either method may complete later (a key server, a remote signer); the socket waits for it
 * without blocking a thread, and handles its other messages after it.
 */
public interface AuthEngine {

  /**
   * Signs {@code claims} as they are. The socket has already written {@code iat}, {@code exp}
   * and {@code nbf} as jsonwebtoken does (see {@link io.agserver.auth.jwt.TokenClaims}); an engine adds nothing the
   * socket's {@code authToken} would not show. Completes with the compact JWS.
   */
  CompletionStage<String> signToken(Map<String, Object> claims, AGServerSocket socket);

  /**
   * Verifies a token a client sent ({@code ""} when it sent none) and completes with its
   * payload. Fails with an {@link io.agserver.protocol.AGError} named
   * {@code AuthTokenExpiredError} (field {@code expiry}), {@code AuthTokenNotBeforeError}
   * (field {@code date}), {@code AuthTokenInvalidError} or {@code AuthTokenError}; jsonwebtoken's
   * {@code TokenExpiredError}, {@code NotBeforeError} and {@code JsonWebTokenError} are understood
   * too, and any other failure counts as an {@code AuthTokenError}.
   */
  CompletionStage<Map<String, Object>> verifyToken(String signedToken, AGServerSocket socket);
}
