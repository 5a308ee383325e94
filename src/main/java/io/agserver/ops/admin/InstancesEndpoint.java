package io.agserver.ops.admin;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import io.agserver.core.Failures;
import io.agserver.ops.InstanceSummary;

/**
 * {@code GET /admin/api/instances}: every instance's latest summary (on Redis, each instance with
 * the admin page on that announced itself in the last {@link AdminConsole#ANNOUNCE_TTL}; with the
 * memory engine, this one), and which of them answers ({@code self}). When the broker cannot be
 * read, this instance alone with the broker's {@code error}.
 */
final class InstancesEndpoint extends AdminEndpoint {

  private static final long serialVersionUID = 1L;
  static final long TIMEOUT_MS = 10_000;

  InstancesEndpoint(AdminConsole console) {
    super(console, "GET");
  }

  @Override
  void handle(HttpServletRequest request, HttpServletResponse response) throws IOException {
    JsonReplies.AsyncReply reply = new JsonReplies.AsyncReply(request, TIMEOUT_MS);
    console.instances().whenComplete((instances, error) -> {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("self", console.instanceId());
      body.put("brokerEngine", console.server().options().brokerEngine());
      List<Object> listed = new ArrayList<>();
      if (error != null) {
        listed.add(console.summary(console.history().latest()).toMap());
        body.put("error", String.valueOf(Failures.unwrap(error).getMessage()));
      } else {
        for (InstanceSummary instance : instances) {
          listed.add(instance.toMap());
        }
      }
      body.put("instances", listed);
      reply.send(HttpServletResponse.SC_OK, body);
    });
  }
}
