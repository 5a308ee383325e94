package io.agserver.ops.admin;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import io.agserver.AGServer;
import io.agserver.AGServerSocket;
import io.agserver.ops.ServerFigures;

/**
 * {@code GET /admin/api/sockets?id=ID} or {@code ?user=NAME}: the sockets of this instance with
 * that id (exactly; pending sockets too), or whose auth token's user claim
 * ({@code socketcluster.presence.userClaim}, {@code username} by default: the claim presence
 * names a member's user by) has that value (exactly, as text). At most {@value #LIMIT} are listed,
 * in id order; {@code total} says how many matched.
 */
final class SocketsEndpoint extends AdminEndpoint {

  private static final long serialVersionUID = 1L;
  static final int LIMIT = 100;
  static final int CHANNELS_LISTED = 100;

  SocketsEndpoint(AdminConsole console) {
    super(console, "GET");
  }

  @Override
  void handle(HttpServletRequest request, HttpServletResponse response) throws IOException, JsonReplies.BadRequest {
    String id = request.getParameter("id");
    String user = request.getParameter("user");
    if ((id == null || id.isEmpty()) == (user == null || user.isEmpty())) {
      throw new JsonReplies.BadRequest("Give either id or user");
    }
    AGServer server = console.server();
    String claim = server.options().channelFeatures().presenceUserClaim();
    List<AGServerSocket> found = new ArrayList<>();
    if (id != null && !id.isEmpty()) {
      AGServerSocket socket = server.clients().get(id);
      if (socket == null) {
        socket = server.pendingClients().get(id);
      }
      if (socket != null) {
        found.add(socket);
      }
    } else {
      for (AGServerSocket socket : server.clients().values()) {
        if (user.equals(userOf(socket, claim))) {
          found.add(socket);
        }
      }
      found.sort(java.util.Comparator.comparing(AGServerSocket::id));
    }
    List<Object> sockets = new ArrayList<>();
    for (AGServerSocket socket : found.subList(0, Math.min(found.size(), LIMIT))) {
      sockets.add(describe(socket, claim, server.figures().live().socket(socket.id())));
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("sockets", sockets);
    body.put("total", found.size());
    body.put("limit", LIMIT);
    body.put("userClaim", claim);
    body.put("instance", console.instanceId());
    JsonReplies.send(response, HttpServletResponse.SC_OK, body);
  }

  /** The value of the socket's user claim as text, or null without a token or that claim. */
  static String userOf(AGServerSocket socket, String claim) {
    Map<String, Object> token = socket.authToken();
    Object value = token == null ? null : token.get(claim);
    return value == null ? null : String.valueOf(value);
  }

  private static Map<String, Object> describe(AGServerSocket socket, String claim, ServerFigures.SocketFigure waiting) {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("id", socket.id());
    map.put("state", socket.state().name().toLowerCase(java.util.Locale.ROOT));
    map.put("remoteAddress", socket.remoteAddress());
    map.put("user", userOf(socket, claim));
    map.put("authenticated", socket.authState() == AGServerSocket.AUTHENTICATED);
    map.put("connectedAt", socket.connectedAt().toEpochMilli());
    List<String> channels = socket.subscriptions();
    map.put("channelCount", channels.size());
    map.put("channels", channels.size() > CHANNELS_LISTED ? channels.subList(0, CHANNELS_LISTED) : channels);
    map.put("waitingCharacters", waiting == null ? 0 : waiting.waitingCharacters());
    map.put("waitingFrames", waiting == null ? 0 : waiting.waitingFrames());
    return map;
  }
}
