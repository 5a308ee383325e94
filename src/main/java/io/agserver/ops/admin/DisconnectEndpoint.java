package io.agserver.ops.admin;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import io.agserver.AGServerSocket;

/**
 * {@code POST /admin/api/disconnect} with {@code {"id": ID, "mode": "disconnect"|"kick"}}: closes
 * the socket of that id on this instance, after what is queued for it, and answers once it is
 * closed (404 when there is no such socket).
 *
 * <p>The close codes are chosen for the official client's reconnect rules (socketcluster-client
 * {@code _destroy}): it reconnects after its usual delay (10 to 20 s by default) on any code below
 * 4500 but 1000 (and at once on 4000, 4001 and 1005), and never on 4500 or above.
 * <ul>
 * <li>{@code disconnect}: {@value #DISCONNECT} ({@value #DISCONNECT_REASON}): the client comes back
 *     by itself after its delay, on whichever instance the balancer gives it;
 * <li>{@code kick}: {@value #KICK} ({@value #KICK_REASON}): the client stays away until its
 *     application connects it again (a page reload does).
 * </ul>
 * Neither is a code of SocketCluster's own (4000 to 4009 each mean something else), so the
 * client's error says exactly this.
 *
 * <p>The close runs on the server's workers, as closes on a timeout do: its disconnection events
 * and their observers never run on a request thread.
 */
final class DisconnectEndpoint extends AdminEndpoint {

  private static final long serialVersionUID = 1L;

  static final int DISCONNECT = 4100;
  static final String DISCONNECT_REASON = "Disconnected by an administrator";
  static final int KICK = 4500;
  static final String KICK_REASON = "Disconnected by an administrator; do not reconnect";
  static final long TIMEOUT_MS = 10_000;

  DisconnectEndpoint(AdminConsole console) {
    super(console, "POST");
  }

  @Override
  void handle(HttpServletRequest request, HttpServletResponse response) throws IOException, JsonReplies.BadRequest {
    Map<?, ?> body = JsonReplies.readObject(request, 4096);
    if (!(body.get("id") instanceof String id) || id.isEmpty()) {
      throw new JsonReplies.BadRequest("id: the socket's id, a string");
    }
    Object mode = body.get("mode") == null ? "disconnect" : body.get("mode");
    boolean kick;
    if ("disconnect".equals(mode)) {
      kick = false;
    } else if ("kick".equals(mode)) {
      kick = true;
    } else {
      throw new JsonReplies.BadRequest("mode: disconnect or kick");
    }
    AGServerSocket socket = console.server().clients().get(id);
    if (socket == null) {
      socket = console.server().pendingClients().get(id);
    }
    if (socket == null) {
      JsonReplies.error(response, HttpServletResponse.SC_NOT_FOUND, "No socket " + id + " on this instance ("
          + console.instanceId() + ")");
      return;
    }
    int code = kick ? KICK : DISCONNECT;
    String reason = kick ? KICK_REASON : DISCONNECT_REASON;
    String operator = operator(request);
    AGServerSocket closing = socket;
    JsonReplies.AsyncReply reply = new JsonReplies.AsyncReply(request, TIMEOUT_MS);
    console.scheduler().execute(reply.guarding("the disconnection of socket " + id, () -> {
      closing.disconnect(code, reason);
      ACTIONS.info(() -> "agserver admin: " + operator + " " + (kick ? "kicked" : "disconnected") + " socket "
          + closing.id() + " (" + closing.remoteAddress() + ") with " + code);
      Map<String, Object> answer = new LinkedHashMap<>();
      answer.put("id", closing.id());
      answer.put("code", code);
      answer.put("reason", reason);
      reply.send(HttpServletResponse.SC_OK, answer);
    }));
  }
}
