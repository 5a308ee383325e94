package io.agserver.core;

import io.agserver.middleware.MiddlewareType;
import io.agserver.AGServerSocket;
import io.agserver.AGAction;
import io.agserver.AGRequest;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;

import io.agserver.auth.AuthEngine;
import io.agserver.auth.AuthTokenOptions;
import io.agserver.auth.DeauthenticateOptions;
import io.agserver.auth.jwt.TokenClaims;
import io.agserver.config.AGServerOptions;
import io.agserver.event.AGAuthenticationEvent;
import io.agserver.event.AGAuthenticationStateChangeEvent;
import io.agserver.event.AGBadSocketAuthTokenEvent;
import io.agserver.event.AGDeauthenticationEvent;
import io.agserver.event.AGSocketEvent;
import io.agserver.core.Failures;
import io.agserver.protocol.AGError;
import io.agserver.protocol.CloseCodes;
import io.agserver.protocol.Errors;

/**
 * One socket's authentication, as socketcluster-server's AGServerSocket does it: tokens from
 * {@code #handshake} and {@code #authenticate}, {@code setAuthToken} / {@code deauthenticate},
 * {@code #removeAuthToken} from the client, the expiry check on the next inbound message (and,
 * with {@code authExpiryCheck=active}, on the server's timer sweep), and the auth events.
 *
 * <p>The state is one immutable {@link State} in a volatile field: a reader sees the auth state,
 * the token and the signed token of one moment, never an authenticated socket without its token.
 * Transitions are made under this object's lock (read, then swap the whole value); events are
 * emitted after it.
 */
public final class SocketAuth {

  /** The socket's auth state, token and signed token, swapped as one. */
  public record State(AGServerSocket.AuthState authState, Map<String, Object> authToken, String signedAuthToken, double expiresAt) {
    static final State UNAUTHENTICATED = new State(AGServerSocket.UNAUTHENTICATED, null, null, Double.NaN);

    static State of(AGServerSocket.AuthState authState, Map<String, Object> authToken, String signedAuthToken) {
      return new State(authState, authToken, authToken == null ? null : signedAuthToken, expiry(authToken));
    }

    State withSigned(String signed) {
      return new State(authState, authToken, signed, expiresAt);
    }
  }

  /** What verifying a token gave: the original's authInfo (also the HANDSHAKE_SC action's data). */
  record AuthInfo(Object signedAuthToken, AGError authTokenError, Map<String, Object> authToken, AGServerSocket.AuthState authState) {}

  /** What the token of a {@code #handshake} did to the socket. */
  record HandshakeAuth(AGServerSocket.AuthState oldAuthState, AGError authError, boolean removeToken) {}

  private final SocketContext socket;
  private volatile State state = State.UNAUTHENTICATED;
  private final AtomicBoolean expiryQueued = new AtomicBoolean();

  public SocketAuth(SocketContext socket) {
    this.socket = socket;
  }

  public State state() {
    return state;
  }

  private ServerContext server() {
    return socket.server();
  }

  private AuthEngine engine() {
    return server().authEngine();
  }

  // ---- verification: #handshake and #authenticate ----

  /** The token of a {@code #handshake}: {@code data.authToken}, where a falsy value means none. */
  static Object handshakeToken(Object data) {
    Object token = data instanceof Map<?, ?> map ? map.get("authToken") : null;
    boolean falsy = token == null || Boolean.FALSE.equals(token) || "".equals(token)
        || (token instanceof Number n && (n.doubleValue() == 0 || Double.isNaN(n.doubleValue())));
    return falsy ? null : token;
  }

  /** Verifies a token the client sent (null for none); never fails: errors are in the AuthInfo. */
  CompletionStage<AuthInfo> validateAuthToken(Object signedAuthToken) {
    CompletionStage<Map<String, Object>> verified;
    if (signedAuthToken != null && !(signedAuthToken instanceof String)) {
      verified = CompletableFuture.failedFuture(
          AGError.invalidArguments("Invalid token format - Token must be a string"));
    } else {
      try {
        verified = engine().verifyToken(signedAuthToken == null ? "" : (String) signedAuthToken, socket.socket());
      } catch (RuntimeException e) {
        verified = CompletableFuture.failedFuture(e);
      }
    }
    return verified.handle((token, failure) -> {
      if (failure == null && token == null) {
        failure = AGError.authToken("The auth engine verified the token but returned no payload");
      }
      if (failure != null) {
        return new AuthInfo(signedAuthToken, processTokenError(Failures.unwrap(failure)), null,
            AGServerSocket.UNAUTHENTICATED);
      }
      return new AuthInfo(signedAuthToken, null, readOnly(token), AGServerSocket.AUTHENTICATED);
    });
  }

  /**
   * Applies a verification result to the socket. Fails with the token's error (after emitting
   * it and, for a bad token, the badAuthToken events) or the AUTHENTICATE middleware's.
   */
  CompletionStage<Void> processAuthentication(AuthInfo info) {
    if (info.authTokenError() != null) {
      setState(AGServerSocket.UNAUTHENTICATED, null, null);
      // A badly formatted token is a socket error; no token at all is not.
      if (info.signedAuthToken() != null) {
        socket.emitError(info.authTokenError());
        if (isBadToken(info.authTokenError())) {
          emitBadAuthTokenError(info.authTokenError(), info.signedAuthToken());
        }
      }
      return CompletableFuture.failedFuture(info.authTokenError());
    }
    setState(AGServerSocket.AUTHENTICATED, info.authToken(), (String) info.signedAuthToken());
    return authenticateMiddleware(info).handle((ok, failure) -> {
      if (failure == null) {
        return InboundProcessor.DONE;
      }
      Throwable error = Failures.unwrap(failure);
      synchronized (this) {
        // As the original: the token is dropped, the signed token is left as it was.
        state = new State(AGServerSocket.UNAUTHENTICATED, null, state.signedAuthToken(), Double.NaN);
      }
      if (isBadToken(error)) {
        emitBadAuthTokenError(error, info.signedAuthToken());
      }
      return CompletableFuture.<Void>failedFuture(error);
    }).thenCompose(stage -> stage);
  }

  /**
   * The inbound middleware's AUTHENTICATE action, with {@code info}'s signed and verified token; a
   * failed stage blocks the authentication.
   */
  CompletionStage<Void> authenticateMiddleware(AuthInfo info) {
    if (!socket.hasMiddleware(MiddlewareType.INBOUND)) {
      return InboundProcessor.DONE;
    }
    AGAction action = AGAction.builder(AGAction.AUTHENTICATE).socket(socket.socket())
        .signedAuthToken(info.signedAuthToken() instanceof String token ? token : null)
        .authToken(info.authToken()).build();
    return socket.middleware(MiddlewareType.INBOUND, action).thenApply(allowed -> null);
  }

  /** The handshake's token: its result; a bad token deauthenticates ({@code #removeAuthToken} is for the caller). */
  CompletionStage<HandshakeAuth> authenticateHandshake(AuthInfo info) {
    AGServerSocket.AuthState oldAuthState = state.authState();
    return processAuthentication(info).handle((ok, failure) -> {
      if (failure == null || info.signedAuthToken() == null) {
        // Without a token there is nothing to report: the token is optional.
        return new HandshakeAuth(oldAuthState, null, false);
      }
      Throwable error = Failures.unwrap(failure);
      boolean bad = isBadToken(error);
      if (bad) {
        deauthenticateSelf();
      }
      return new HandshakeAuth(oldAuthState, asAGError(error), bad);
    });
  }

  /** {@code #authenticate}: verifies the token and answers {isAuthenticated, authError}. */
  CompletionStage<Void> processAuthenticateRequest(AGRequest request) {
    Object signedAuthToken = io.agserver.protocol.Undefined.orNull(request.data());
    AGServerSocket.AuthState oldAuthState = state.authState();
    return validateAuthToken(signedAuthToken).thenCompose(this::processAuthentication).handle((ok, failure) -> {
      if (failure != null) {
        Throwable error = Failures.unwrap(failure);
        if (isBadToken(error)) {
          deauthenticateSelf();
          request.error(error);
          transmitRemoveAuthToken();
          return null;
        }
        Map<String, Object> status = new LinkedHashMap<>(2);
        status.put("isAuthenticated", state.authToken() != null);
        status.put("authError", signedAuthToken == null ? null : Errors.dehydrate(error));
        request.end(status);
        return null;
      }
      triggerAuthenticationEvents(oldAuthState);
      Map<String, Object> status = new LinkedHashMap<>(2);
      status.put("isAuthenticated", state.authToken() != null);
      status.put("authError", null);
      request.end(status);
      return null;
    });
  }

  // ---- the server sets or removes the token ----

  public CompletionStage<Void> setAuthToken(Map<String, ?> data, AuthTokenOptions options) {
    if (AGServerSocket.CONNECTING.equals(socket.state())) {
      AGError error = AGError.invalidAction("Cannot call setAuthToken before completing the handshake");
      socket.emitError(error);
      return CompletableFuture.failedFuture(error);
    }
    AuthTokenOptions actual = options == null ? AuthTokenOptions.DEFAULTS : options;
    Duration defaultExpiry = Duration.ofSeconds(server().options().authDefaultExpiry());
    Map<String, Object> claims = null;
    RuntimeException invalid = null;
    AGServerSocket.AuthState oldAuthState;
    synchronized (this) {
      State old = state;
      oldAuthState = old.authState();
      try {
        claims = readOnly(TokenClaims.prepare(data, actual, defaultExpiry,
            Math.floorDiv(now(), 1000)));
      } catch (RuntimeException e) {
        invalid = e;  // jsonwebtoken refuses to sign it: the socket closes below
      }
      // As the original: the new token is the socket's at once; its signed form follows when
      // signing completes. Until then the previous signed token (if any) stays beside it.
      state = new State(AGServerSocket.AUTHENTICATED, claims, old.signedAuthToken(), expiry(claims));
    }
    CompletionStage<String> signing;
    if (invalid != null) {
      signing = CompletableFuture.failedFuture(invalid);
    } else {
      try {
        signing = engine().signToken(claims, socket.socket());
      } catch (RuntimeException e) {
        signing = CompletableFuture.failedFuture(e);
      }
    }
    return signed(claims, signing, oldAuthState, actual);
  }

  private CompletionStage<Void> signed(Map<String, Object> claims, CompletionStage<String> signing,
      AGServerSocket.AuthState oldAuthState, AuthTokenOptions options) {
    return signing.handle((signedToken, failure) -> {
      if (failure != null) {
        Throwable error = Failures.unwrap(failure);
        socket.emitError(error);
        socket.closeForAuthFailure(CloseCodes.AUTH_SIGN_FAILED, String.valueOf(error));
        return CompletableFuture.<Void>failedFuture(error);
      }
      boolean current;
      synchronized (this) {
        current = state.authToken() == claims;
        if (current) {
          state = state.withSigned(signedToken);
        }
      }
      if (current && socket.listens("authTokenSigned")) {
        socket.emit("authTokenSigned", new AGSocketEvent.AuthTokenSigned(signedToken));
      }
      triggerAuthenticationEvents(oldAuthState);
      Map<String, Object> tokenData = new LinkedHashMap<>(1);
      tokenData.put("token", signedToken);
      if (options.rejectOnFailedDelivery()) {
        return socket.socket().invoke("#setAuthToken", tokenData).handle((result, invokeFailure) -> {
          if (invokeFailure == null) {
            return CompletableFuture.<Void>completedFuture(null);
          }
          Throwable cause = Failures.unwrap(invokeFailure);
          AGError error = cause.getMessage() != null
              ? AGError.auth("Failed to deliver auth token to client - " + cause.getMessage())
              : AGError.auth("Failed to confirm delivery of auth token to client due to malformatted error response");
          socket.emitError(error);
          return CompletableFuture.<Void>failedFuture(error);
        }).thenCompose(stage -> stage);
      }
      socket.socket().transmit("#setAuthToken", tokenData);
      return CompletableFuture.<Void>completedFuture(null);
    }).thenCompose(stage -> stage);
  }

  public CompletionStage<Void> deauthenticate(DeauthenticateOptions options) {
    deauthenticateSelf();
    if (options != null && options.rejectOnFailedDelivery()) {
      return socket.socket().invoke("#removeAuthToken").handle((result, failure) -> {
        if (failure == null) {
          return CompletableFuture.<Void>completedFuture(null);
        }
        Throwable error = Failures.unwrap(failure);
        socket.emitError(error);
        return CompletableFuture.<Void>failedFuture(error);
      }).thenCompose(stage -> stage);
    }
    transmitRemoveAuthToken();
    // A new future each time: a caller may complete or obtrude what it is given.
    return CompletableFuture.completedFuture(null);
  }

  /** Drops the token on this side only (the client asked for it, or will be told separately). */
  public void deauthenticateSelf() {
    AGServerSocket.AuthState oldAuthState;
    Map<String, Object> oldAuthToken;
    synchronized (this) {
      State old = state;
      oldAuthState = old.authState();
      oldAuthToken = old.authToken();
      state = State.UNAUTHENTICATED;
    }
    if (!AGServerSocket.UNAUTHENTICATED.equals(oldAuthState)) {
      if (socket.listens("authStateChange")) {
        socket.emit("authStateChange",
            new AGSocketEvent.AuthStateChange(oldAuthState, AGServerSocket.UNAUTHENTICATED, null));
      }
      server().emit("authenticationStateChange",
          new AGAuthenticationStateChangeEvent(socket.socket(), oldAuthState, AGServerSocket.UNAUTHENTICATED, null));
    }
    if (socket.listens("deauthenticate")) {
      socket.emit("deauthenticate", new AGSocketEvent.Deauthenticate(oldAuthToken));
    }
    server().emit("deauthentication", new AGDeauthenticationEvent(socket.socket(), oldAuthToken));
  }

  /** {@code #removeAuthToken} to the client, whatever the socket's state (the original's _transmit). */
  void transmitRemoveAuthToken() {
    Map<String, Object> packet = new LinkedHashMap<>(1);
    packet.put("event", "#removeAuthToken");
    socket.sendObject(packet);
  }

  void triggerAuthenticationEvents(AGServerSocket.AuthState oldAuthState) {
    State current = state;
    Map<String, Object> authToken = current.authToken();
    if (!AGServerSocket.AUTHENTICATED.equals(oldAuthState)) {
      AGServerSocket.AuthState newAuthState = current.authState();
      if (socket.listens("authStateChange")) {
        socket.emit("authStateChange", new AGSocketEvent.AuthStateChange(oldAuthState, newAuthState, authToken));
      }
      server().emit("authenticationStateChange",
          new AGAuthenticationStateChangeEvent(socket.socket(), oldAuthState, newAuthState, authToken));
    }
    if (socket.listens("authenticate")) {
      socket.emit("authenticate", new AGSocketEvent.Authenticate(authToken));
    }
    server().emit("authentication", new AGAuthenticationEvent(socket.socket(), authToken));
  }

  // ---- expiry ----

  /** As the original: a token with a numeric {@code exp} is expired once now > exp * 1000. */
  static boolean isAuthTokenExpired(Map<String, ?> token, long nowMillis) {
    return token != null && token.get("exp") instanceof Number exp && nowMillis > exp.doubleValue() * 1000;
  }

  public boolean isExpired(Map<String, ?> token) {
    return isAuthTokenExpired(token, now());
  }

  /** The server's clock: the one every timer decision uses. */
  private long now() {
    return server().scheduler().now();
  }

  /**
   * The check before an inbound event is handled: an expired token deauthenticates the socket
   * and gives the AuthTokenExpiredError the inbound middleware's action carries; null otherwise.
   */
  AGError processAuthTokenExpiry() {
    Map<String, Object> token = state.authToken();
    if (!isExpired(token)) {
      return null;
    }
    deauthenticate(DeauthenticateOptions.DEFAULTS);
    return AGError.authTokenExpired("The socket auth token has expired", token.get("exp"));
  }

  /** The check on a pong. */
  void checkExpiry() {
    if (isExpired(state.authToken())) {
      deauthenticate(DeauthenticateOptions.DEFAULTS);
    }
  }

  /**
   * With {@code authExpiryCheck=active}: true once per expiry when the token has expired at
   * {@code now}; the caller then queues {@link #expireNow} behind the socket's inbound messages.
   * Costs a volatile read per sweep otherwise.
   */
  public boolean activeExpiryDue(long now) {
    return now > state.expiresAt()
        && server().options().authExpiryCheck() == AGServerOptions.AuthExpiryCheck.ACTIVE
        && expiryQueued.compareAndSet(false, true);
  }

  public CompletionStage<Void> expireNow() {
    expiryQueued.set(false);
    if (AGServerSocket.OPEN.equals(socket.state())) {
      checkExpiry();
    }
    return InboundProcessor.DONE;
  }

  // ---- helpers ----

  private synchronized void setState(AGServerSocket.AuthState authState, Map<String, Object> authToken, String signedAuthToken) {
    state = State.of(authState, authToken, signedAuthToken);
  }

  private static double expiry(Map<String, ?> token) {
    return token != null && token.get("exp") instanceof Number exp ? exp.doubleValue() * 1000 : Double.NaN;
  }

  private void emitBadAuthTokenError(Throwable error, Object signedAuthToken) {
    AGError authError = asAGError(error);
    String token = signedAuthToken instanceof String s ? s : server().codec().encode(signedAuthToken);
    if (socket.listens("badAuthToken")) {
      socket.emit("badAuthToken", new AGSocketEvent.BadAuthToken(authError, token));
    }
    server().emit("badSocketAuthToken", new AGBadSocketAuthTokenEvent(socket.socket(), authError, token));
  }

  /**
   * The original's _processTokenError: the engine's (or jsonwebtoken's) error as the socket's
   * AuthToken*Error, with {@code isBadToken} (false only for a token that is not valid yet).
   */
  static AGError processTokenError(Throwable error) {
    String message = error.getMessage();
    String name = error instanceof AGError e ? e.name() : "";
    AGError authError = switch (name) {
      case "AuthTokenExpiredError", "TokenExpiredError" -> copy(AGError.authTokenExpired(message, null),
          (AGError) error, name.equals("TokenExpiredError") ? "expiredAt" : "expiry", "expiry");
      case "AuthTokenNotBeforeError", "NotBeforeError" -> copy(AGError.authTokenNotBefore(message, null),
          (AGError) error, "date", "date");
      case "AuthTokenInvalidError", "JsonWebTokenError" -> AGError.authTokenInvalid(message);
      default -> AGError.authToken(message);
    };
    authError.with("isBadToken", !authError.name().equals("AuthTokenNotBeforeError"));
    return authError;
  }

  private static AGError copy(AGError target, AGError source, String from, String to) {
    if (source.fields().containsKey(from)) {
      target.with(to, source.get(from));
    }
    return target;
  }

  static boolean isBadToken(Throwable error) {
    return error instanceof AGError e && Boolean.TRUE.equals(e.get("isBadToken"));
  }

  private static AGError asAGError(Throwable error) {
    return error instanceof AGError e ? e : Errors.hydrate(error);
  }


  private static Map<String, Object> readOnly(Map<String, Object> token) {
    return Collections.unmodifiableMap(token);
  }
}
