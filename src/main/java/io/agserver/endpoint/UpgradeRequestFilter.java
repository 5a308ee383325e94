package io.agserver.endpoint;

import java.io.IOException;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;

/**
 * Sees the HTTP upgrade request before the WebSocket container does and keeps the peer's address
 * for the handshake hook on the same thread: Jakarta WebSocket's HandshakeRequest has no remote
 * address.
 */
public final class UpgradeRequestFilter implements Filter {

  record Peer(String address, int port, boolean secure) {}

  private static final ThreadLocal<Peer> CURRENT = new ThreadLocal<>();

  static Peer current() {
    return CURRENT.get();
  }

  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    CURRENT.set(new Peer(request.getRemoteAddr(), request.getRemotePort(), request.isSecure()));
    try {
      chain.doFilter(request, response);
    } finally {
      CURRENT.remove();
    }
  }
}
