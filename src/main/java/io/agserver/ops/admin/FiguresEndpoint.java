package io.agserver.ops.admin;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import io.agserver.AGServer;
import io.agserver.ops.ServerFigures;

/**
 * {@code GET /admin/api/figures[?since=MS]}: this instance (who it is, every figure now, the rates
 * of the latest sample), the samples taken after {@code since} (all the history without it), the
 * channels with the most subscribers and the sockets with the most waiting for them.
 */
final class FiguresEndpoint extends AdminEndpoint {

  private static final long serialVersionUID = 1L;
  static final int TOP = 10;

  FiguresEndpoint(AdminConsole console) {
    super(console, "GET");
  }

  @Override
  void handle(HttpServletRequest request, HttpServletResponse response) throws IOException, JsonReplies.BadRequest {
    long since = Long.MIN_VALUE;
    String sinceText = request.getParameter("since");
    if (sinceText != null && !sinceText.isBlank()) {
      try {
        since = Long.parseLong(sinceText.strip());
      } catch (NumberFormatException e) {
        throw new JsonReplies.BadRequest("since: expected ms since the epoch, got " + AdminRequests.printable(sinceText));
      }
    }
    AGServer server = console.server();
    ServerFigures figures = server.figures();
    ServerFigures.Snapshot now = figures.snapshot();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("instance", instance(console));
    body.put("now", snapshot(now));
    FigureHistory.Sample latest = console.history().latest();
    body.put("rates", latest == null ? null : rates(latest));
    body.put("sampleInterval", AdminConsole.SAMPLE_INTERVAL_MS);
    body.put("sampleCapacity", console.history().capacity());
    List<Object> samples = new ArrayList<>();
    for (FigureHistory.Sample sample : console.history().since(since)) {
      samples.add(sample(sample));
    }
    body.put("samples", samples);
    List<Object> channels = new ArrayList<>();
    for (ServerFigures.ChannelFigure channel : figures.live().topChannels(TOP)) {
      channels.add(Map.of("channel", channel.channel(), "subscribers", channel.subscribers()));
    }
    body.put("topChannels", channels);
    List<Object> slowest = new ArrayList<>();
    for (ServerFigures.SocketFigure socket : figures.live().slowestSockets(TOP)) {
      slowest.add(socket(socket));
    }
    body.put("slowConsumers", slowest);
    JsonReplies.send(response, HttpServletResponse.SC_OK, body);
  }

  static Map<String, Object> instance(AdminConsole console) {
    AGServer server = console.server();
    Map<String, Object> instance = new LinkedHashMap<>();
    instance.put("id", console.instanceId());
    instance.put("host", console.host());
    instance.put("startedAt", console.startedAt());
    instance.put("brokerEngine", server.options().brokerEngine());
    instance.put("path", server.path());
    instance.put("ready", server.isReady());
    instance.put("draining", server.isDraining());
    instance.put("userClaim", server.options().channelFeatures().presenceUserClaim());
    return instance;
  }

  private static Map<String, Object> snapshot(ServerFigures.Snapshot s) {
    Map<String, Object> now = new LinkedHashMap<>();
    now.put("at", s.at().toEpochMilli());
    now.put("connections", s.connections());
    now.put("clients", s.clients());
    now.put("subscriptions", s.subscriptions());
    now.put("channels", s.channels());
    now.put("outboundWaitingCharacters", s.outboundWaitingCharacters());
    now.put("outboundWaitingFrames", s.outboundWaitingFrames());
    now.put("connectionsAccepted", s.connectionsAccepted());
    now.put("connectionsClosed", s.connectionsClosed());
    now.put("closedByCode", s.closedByCode());
    now.put("handshakes", s.handshakes());
    now.put("messagesReceived", s.messagesReceived());
    now.put("bytesReceived", s.bytesReceived());
    now.put("messagesSent", s.messagesSent());
    now.put("bytesSent", s.bytesSent());
    now.put("rpcs", s.rpcs());
    now.put("rpcErrors", s.rpcErrors());
    now.put("publishes", s.publishes());
    now.put("deliveries", s.deliveries());
    now.put("cutOffOutboundBuffer", s.cutOffOutboundBuffer());
    now.put("cutOffSendTimeout", s.cutOffSendTimeout());
    now.put("rateLimitedMessages", s.rateLimitedMessages());
    now.put("brokerPublishes", s.brokerPublishes());
    now.put("brokerPublishErrors", s.brokerPublishErrors());
    return now;
  }

  private static Map<String, Object> rates(FigureHistory.Sample sample) {
    Map<String, Object> rates = new LinkedHashMap<>();
    rates.put("at", sample.at());
    rates.put("messagesInPerSecond", sample.messagesInPerSecond());
    rates.put("messagesOutPerSecond", sample.messagesOutPerSecond());
    rates.put("publishesPerSecond", sample.publishesPerSecond());
    rates.put("deliveriesPerSecond", sample.deliveriesPerSecond());
    rates.put("rpcsPerSecond", sample.rpcsPerSecond());
    return rates;
  }

  /** A sample with short names: the page holds 300 of them. */
  private static Map<String, Object> sample(FigureHistory.Sample sample) {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("t", sample.at());
    map.put("connections", sample.connections());
    map.put("clients", sample.clients());
    map.put("channels", sample.channels());
    map.put("subscriptions", sample.subscriptions());
    map.put("waiting", sample.outboundWaitingCharacters());
    map.put("in", round(sample.messagesInPerSecond()));
    map.put("out", round(sample.messagesOutPerSecond()));
    map.put("publishes", round(sample.publishesPerSecond()));
    map.put("deliveries", round(sample.deliveriesPerSecond()));
    map.put("rpcs", round(sample.rpcsPerSecond()));
    map.put("cutOff", sample.cutOff());
    return map;
  }

  static Map<String, Object> socket(ServerFigures.SocketFigure socket) {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("id", socket.id());
    map.put("remoteAddress", socket.remoteAddress());
    map.put("waitingCharacters", socket.waitingCharacters());
    map.put("waitingFrames", socket.waitingFrames());
    return map;
  }

  private static double round(double value) {
    return Math.round(value * 100) / 100.0;
  }
}
