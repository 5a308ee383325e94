package io.agserver.transport;

import java.io.IOException;
import java.net.URI;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import io.agserver.AGServer;
import io.agserver.AGUpgradeRequest;
import io.agserver.core.Connections;
import io.agserver.protocol.AGError;

/**
 * Sees the HTTP upgrade request before the WebSocket container does: runs the HANDSHAKE_WS
 * middleware (refusing with 401) and the {@code origins} check (refusing with 403), and keeps the
 * peer's address for the handshake hook on the same thread, since Jakarta WebSocket's
 * HandshakeRequest has no remote address.
 */
public final class UpgradeRequestFilter implements Filter {

  record Peer(String address, int port, boolean secure) {}

  private static final ThreadLocal<Peer> CURRENT = new ThreadLocal<>();

  private final Connections connections;
  private final AGServer server;
  private final OriginPolicy origins;

  public UpgradeRequestFilter(Connections connections) {
    this.connections = connections;
    this.server = connections.server();
    this.origins = new OriginPolicy(server.options().origins());
  }

  static Peer current() {
    return CURRENT.get();
  }

  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    ServletRequest forward = request;
    if (request instanceof HttpServletRequest http && response instanceof HttpServletResponse httpResponse
        && isUpgrade(http)) {
      if (!admit(http, httpResponse)) {
        return;
      }
      forward = new SessionlessUpgradeRequest(http);
    }
    CURRENT.set(new Peer(request.getRemoteAddr(), request.getRemotePort(), request.isSecure()));
    try {
      chain.doFilter(forward, response);
    } finally {
      CURRENT.remove();
    }
  }

  private static boolean isUpgrade(HttpServletRequest request) {
    String upgrade = request.getHeader("Upgrade");
    return upgrade != null && upgrade.equalsIgnoreCase("websocket");
  }

  /**
   * The original's verifyHandshake: middleware first, then the origin. The server's own warm-up
   * connections skip both (they run no application code, and carry no origin).
   */
  private boolean admit(HttpServletRequest request, HttpServletResponse response) throws IOException {
    AGUpgradeRequest upgrade = upgradeRequest(request);
    if (connections.isWarmUp(upgrade)) {
      return true;
    }
    try {
      // The servlet API cannot finish an upgrade asynchronously: a middleware that decides later
      // holds this request's thread, at most for the handshake timeout.
      connections.verifyHandshake(upgrade).toCompletableFuture()
          .get(server.options().handshakeTimeout(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      refuse(response, HttpServletResponse.SC_UNAUTHORIZED, e.getCause());
      return false;
    } catch (TimeoutException e) {
      refuse(response, HttpServletResponse.SC_UNAUTHORIZED, AGError.timeout("Handshake middleware timed out"));
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      refuse(response, HttpServletResponse.SC_UNAUTHORIZED, e);
      return false;
    }
    String origin = request.getHeader("Origin");
    if (!origins.allows(origin)) {
      AGError error = AGError.serverProtocol("Failed to authorize socket handshake - Invalid origin: "
          + OriginPolicy.normalize(origin));
      server.emitWarning(error);
      refuse(response, HttpServletResponse.SC_FORBIDDEN, error);
      return false;
    }
    return true;
  }

  private static void refuse(HttpServletResponse response, int status, Throwable error) throws IOException {
    String message = error == null || error.getMessage() == null ? "" : error.getMessage();
    response.setStatus(status);
    response.setContentType("text/plain;charset=UTF-8");
    response.getWriter().write(message);
  }

  static AGUpgradeRequest upgradeRequest(HttpServletRequest request) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (String name : Collections.list(request.getHeaderNames())) {
      headers.put(name, Collections.list(request.getHeaders(name)));
    }
    Map<String, List<String>> query = new LinkedHashMap<>();
    request.getParameterMap().forEach((name, values) -> query.put(name, List.of(values)));
    String url = request.getRequestURL().toString();
    if (request.getQueryString() != null) {
      url += "?" + request.getQueryString();
    }
    return new AGUpgradeRequest(URI.create(url), headers, query, request.getRemoteAddr(), request.getRemotePort(),
        request.isSecure());
  }
}
