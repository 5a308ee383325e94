package io.agserver.transport;

import java.net.URI;
import java.util.List;
import java.util.Map;

import jakarta.websocket.Session;
import jakarta.websocket.server.HandshakeRequest;

import io.agserver.AGUpgradeRequest;

/** Builds {@link AGUpgradeRequest}s from what the Jakarta WebSocket API exposes. */
final class UpgradeRequests {

  private UpgradeRequests() {}

  static AGUpgradeRequest fromHandshake(HandshakeRequest request, UpgradeRequestFilter.Peer peer) {
    URI uri = withQuery(request.getRequestURI(), request.getQueryString());
    Map<String, List<String>> headers = request.getHeaders();
    return new AGUpgradeRequest(uri, headers, request.getParameterMap(),
        peer == null ? null : peer.address(), peer == null ? null : peer.port(),
        peer != null && peer.secure());
  }

  /** When the container skipped the handshake hook: what the session still knows. */
  static AGUpgradeRequest fromSession(Session session) {
    return new AGUpgradeRequest(session.getRequestURI(), Map.of(), session.getRequestParameterMap(),
        null, null, session.isSecure());
  }

  private static URI withQuery(URI uri, String query) {
    if (uri == null || query == null || uri.getRawQuery() != null) {
      return uri;
    }
    return URI.create(uri + "?" + query);
  }
}
