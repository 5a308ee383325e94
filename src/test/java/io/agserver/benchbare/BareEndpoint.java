package io.agserver.benchbare;

import jakarta.websocket.OnMessage;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpoint;

/**
 * The ceiling bench/run measures agserver against: a bare endpoint on the same runtime that
 * answers the load generator's {@code #handshake} and {@code echo} by slicing strings, with no
 * SocketCluster semantics at all (no parsing, no streams, no timers, no pings).
 */
@ServerEndpoint("/socketcluster/")
public class BareEndpoint {

  private static final String HANDSHAKE = "{\"event\":\"#handshake\"";
  private static final String ECHO = "{\"event\":\"echo\",\"data\":";
  private static final String CID = ",\"cid\":";

  // One synchronous send per message: async sends may not overlap on one session, and the
  // load generator keeps several calls in flight per connection.
  @OnMessage
  public void onMessage(String message, Session session) throws java.io.IOException {
    int cidAt = message.lastIndexOf(CID);
    if (cidAt < 0) {
      return;
    }
    String cid = message.substring(cidAt + CID.length(), message.length() - 1);
    if (message.startsWith(ECHO)) {
      String data = message.substring(ECHO.length(), cidAt);
      session.getBasicRemote().sendText("{\"rid\":" + cid + ",\"data\":" + data + "}");
    } else if (message.startsWith(HANDSHAKE)) {
      session.getBasicRemote().sendText("{\"rid\":" + cid
          + ",\"data\":{\"id\":\"bare\",\"pingTimeout\":20000,\"isAuthenticated\":false}}");
    }
  }
}
