package io.agserver.transport;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpSession;

/**
 * The upgrade request as the WebSocket container sees it: {@code getSession()} does not create an
 * HTTP session. Open Liberty's handshake calls {@code getSession()} for every upgrade, which makes
 * a session (a random id, a JSESSIONID cookie in the 101 response, session-manager bookkeeping)
 * that lives as long as the connection and that nothing in agserver uses; measured here it was
 * about a tenth of the CPU of a handshake, and a share of the memory of each idle connection.
 * A session the client already has is still found.
 */
final class SessionlessUpgradeRequest extends HttpServletRequestWrapper {

  SessionlessUpgradeRequest(HttpServletRequest request) {
    super(request);
  }

  @Override
  public HttpSession getSession() {
    return super.getSession(false);
  }

  @Override
  public HttpSession getSession(boolean create) {
    return super.getSession(false);
  }
}
