package io.agserver.ops.admin;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import io.agserver.codec.JsonCodec;
import io.agserver.core.Failures;
import io.agserver.pubsub.AGExchange;

/**
 * {@code POST /admin/api/publish} with {@code {"channel": NAME, "data": JSON_TEXT}}: publishes the
 * value the JSON text stands for (400 when it is not JSON) through the server's exchange, as
 * {@code server.exchange().invokePublish} would: to every subscriber on every instance, with the
 * channel's next offset on a history channel (given back as {@code offset} and {@code epoch}).
 * Answers once the broker has taken it (502 with the broker's error when it did not). The publish
 * runs on the server's workers, so that its fan-out and outbound middleware never hold a request
 * thread.
 */
final class PublishEndpoint extends AdminEndpoint {

  private static final long serialVersionUID = 1L;
  static final long TIMEOUT_MS = 15_000;
  static final int MAX_CHANNEL = 1024;

  PublishEndpoint(AdminConsole console) {
    super(console, "POST");
  }

  @Override
  void handle(HttpServletRequest request, HttpServletResponse response) throws IOException, JsonReplies.BadRequest {
    long maxPayload = console.server().options().maxPayload();
    Map<?, ?> body = JsonReplies.readObject(request, (int) Math.min(Integer.MAX_VALUE - 8, Math.min(maxPayload, Integer.MAX_VALUE) * 2 + 4096));
    if (!(body.get("channel") instanceof String channel) || channel.isEmpty() || channel.length() > MAX_CHANNEL) {
      throw new JsonReplies.BadRequest("channel: the channel's name, 1 to " + MAX_CHANNEL + " characters");
    }
    if (!(body.get("data") instanceof String text)) {
      throw new JsonReplies.BadRequest("data: the data as JSON text (a string)");
    }
    if (text.length() > maxPayload) {
      throw new JsonReplies.BadRequest("data: longer than socketcluster.maxPayload (" + maxPayload + ")");
    }
    Object data;
    try {
      data = JsonCodec.instance().parse(text);
    } catch (IllegalArgumentException e) {
      throw new JsonReplies.BadRequest("data is not JSON: " + e.getMessage());
    }
    String operator = operator(request);
    AGExchange exchange = console.server().exchange();
    JsonReplies.AsyncReply reply = new JsonReplies.AsyncReply(request, TIMEOUT_MS);
    console.scheduler().execute(reply.guarding("the publish to channel '" + AdminRequests.printable(channel) + "'", () -> {
      Map<String, Object> answer = new LinkedHashMap<>();
      answer.put("channel", channel);
      var published = exchange.historyOf(channel) == null
          ? exchange.invokePublish(channel, data).thenApply(done -> answer)
          : exchange.publishWithPosition(channel, data).thenApply(position -> {
            answer.put("offset", position.offset());
            answer.put("epoch", position.epoch());
            return answer;
          });
      published.whenComplete((ok, error) -> {
        if (error != null) {
          Throwable cause = Failures.unwrap(error);
          ACTIONS.info(() -> "agserver admin: " + operator + " could not publish to channel '"
              + AdminRequests.printable(channel) + "': " + cause.getMessage());
          reply.send(HttpServletResponse.SC_BAD_GATEWAY, Map.of("error", String.valueOf(cause.getMessage())));
          return;
        }
        ACTIONS.info(() -> "agserver admin: " + operator + " published " + text.length() + " characters to channel '"
            + AdminRequests.printable(channel) + "'");
        reply.send(HttpServletResponse.SC_OK, answer);
      });
    }));
  }
}
