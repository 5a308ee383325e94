package io.agserver.transport;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
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
import io.agserver.ops.ConnectionLimits;
import io.agserver.ops.ConnectionSlot;
import io.agserver.protocol.AGError;

/**
 * Sees the HTTP upgrade request before the WebSocket container does: takes a slot under the
 * connection limits (refusing with 503 or 429), runs the HANDSHAKE_WS middleware (refusing with
 * 401) and the {@code origins} check (refusing with 403), and keeps the peer's address and the
 * slot for the handshake hook on the same thread, since Jakarta WebSocket's HandshakeRequest has
 * neither.
 *
 * <p>The slot's story (see {@link ConnectionSlot}): taken here first, before any work is done for
 * the request; released here when this filter or the container refuses the upgrade; else handed
 * to the container by the handshake hook, and from there to the socket, or given up by the timer
 * sweep if the connection never opens.
 */
public final class UpgradeRequestFilter implements Filter {

  /** {@code slot}: null without connection limits. */
  record Peer(String address, int port, boolean secure, ConnectionSlot slot) {}

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
    if (!(request instanceof HttpServletRequest http && response instanceof HttpServletResponse httpResponse
        && isUpgrade(http))) {
      CURRENT.set(new Peer(request.getRemoteAddr(), request.getRemotePort(), request.isSecure(), null));
      try {
        chain.doFilter(request, response);
      } finally {
        CURRENT.remove();
      }
      return;
    }
    ConnectionLimits limits = connections.connectionLimits();
    ConnectionSlot slot = null;
    if (limits != null) {
      ConnectionLimits.Admission admission = limits.admit(limits.clientAddress(http.getRemoteAddr(),
          limits.addressHeader() == null ? null : Collections.list(http.getHeaders(limits.addressHeader()))));
      if (!admission.admitted()) {
        refuseForLimit(httpResponse, admission.refusal().status(), admission.refusal().message());
        return;
      }
      slot = admission.slot();
    }
    boolean admitted = false;
    try {
      admitted = admit(http, httpResponse);
    } finally {
      if (!admitted && slot != null) {
        slot.releaseUnclaimed();
      }
    }
    if (!admitted) {
      return;
    }
    CURRENT.set(new Peer(request.getRemoteAddr(), request.getRemotePort(), request.isSecure(), slot));
    try {
      chain.doFilter(new SessionlessUpgradeRequest(http), response);
    } finally {
      CURRENT.remove();
      if (slot != null) {
        limits.upgradeAnswered(slot, httpResponse.getStatus());
      }
    }
  }

  private static boolean isUpgrade(HttpServletRequest request) {
    String upgrade = request.getHeader("Upgrade");
    return upgrade != null && upgrade.equalsIgnoreCase("websocket");
  }

  /**
   * The original's verifyHandshake: middleware first, then the origin. A draining server takes no
   * new socket: 503, so that a balancer or the client's reconnect goes to another instance. The
   * server's own warm-up connections skip the middleware and the origin (they run no application
   * code, and carry no origin).
   */
  private boolean admit(HttpServletRequest request, HttpServletResponse response) throws IOException {
    if (server.isDraining()) {
      // By the end of the drain this instance is gone: one drain time is when to try again.
      long seconds = Math.max(1, (server.options().drainTime() + 999) / 1000);
      response.setHeader("Retry-After", Long.toString(seconds));
      refuse(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE, "Server is shutting down");
      return false;
    }
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

  /**
   * A connection limit refuses the upgrade: 503 (the server is full) or 429 (the address), before
   * any other work. No agserver type in the signature: Open Liberty resolves a filter's method
   * signatures when it stops the application, after the archive may be gone, and a class never
   * loaded before (no limit was ever reached) could not be read then.
   */
  private static void refuseForLimit(HttpServletResponse response, int status, String message) {
    response.setHeader("Retry-After", Integer.toString(ConnectionLimits.RETRY_AFTER_SECONDS));
    refuse(response, status, message);
  }

  private static void refuse(HttpServletResponse response, int status, Throwable error) {
    refuse(response, status, error == null || error.getMessage() == null ? "" : error.getMessage());
  }

  private static void refuse(HttpServletResponse response, int status, String message) {
    if (response.isCommitted()) {
      return; // the container answered already: nothing can be added to it
    }
    response.setStatus(status);
    writeBody(response, message);
  }

  /**
   * The refusal's text, through the response's output stream: Payara, while it stops, has been
   * seen to have taken the stream of an upgrade request already (getWriter then threw
   * IllegalStateException out of the filter, and Grizzly failed the connection). The status says
   * what matters; the text goes out only when the response still takes one, and a connection
   * already gone (the runtime stopping) fails nothing here.
   */
  private static void writeBody(HttpServletResponse response, String message) {
    response.setContentType("text/plain;charset=UTF-8");
    byte[] body = message.getBytes(StandardCharsets.UTF_8);
    try {
      try {
        response.getOutputStream().write(body);
      } catch (IllegalStateException streamTaken) {
        // A filter before this one took the writer: its encoding stands (ISO-8859-1 unless it set
        // one), so a character beyond it comes out as '?'.
        response.getWriter().write(message);
      }
    } catch (IOException gone) {
      // The client or the runtime closed the connection: the refusal has no one to reach.
    }
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
