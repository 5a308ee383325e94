package io.agserver;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.agserver.codec.JsonCodec;
import io.agserver.redis.RedisProcess;

/**
 * Two servers on the Redis engine and one real redis-server, driven through the protocol as
 * clients drive them: where middleware runs, what a client hears when Redis is away.
 */
class RedisServersTest {

  @TempDir
  Path dir;

  private RedisProcess redis;
  private final List<AGServer> servers = new ArrayList<>();
  private final List<Object> events = new CopyOnWriteArrayList<>();

  @BeforeEach
  void startRedis() throws Exception {
    redis = RedisProcess.start(dir);
  }

  @AfterEach
  void stop() throws Exception {
    servers.forEach(AGServer::close);
    redis.close();
  }

  private AGServer server() throws Exception {
    Map<String, String> config = new HashMap<>();
    config.put("brokerEngine", "redis");
    config.put("redis.uri", redis.uri());
    config.put("ackTimeout", "4000");
    AGServer server = new AGServer(TestServers.options(config), null, events::add, null);
    servers.add(server);
    await().atMost(Duration.ofSeconds(20)).until(server::isReady);
    return server;
  }

  private static AGServerSocket connect(AGServer server, FakeTransport transport) {
    AGServerSocket socket = server.accept(transport, TestServers.request());
    socket.receive("{\"event\":\"#handshake\",\"cid\":1}");
    return socket;
  }

  /** The response to request {@code cid}, once it came. */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> response(FakeTransport transport, int cid) {
    return await().atMost(Duration.ofSeconds(20)).until(() -> {
      for (String text : transport.packets()) {
        if (JsonCodec.instance().decode(text) instanceof Map<?, ?> packet
            && Integer.valueOf(cid).equals(packet.get("rid"))) {
          return (Map<String, Object>) packet;
        }
      }
      return null;
    }, found -> found != null);
  }

  private static List<Object> published(FakeTransport transport, String channel) {
    List<Object> data = new ArrayList<>();
    for (String text : transport.packets()) {
      if (JsonCodec.instance().decode(text) instanceof Map<?, ?> packet && "#publish".equals(packet.get("event"))
          && packet.get("data") instanceof Map<?, ?> inner && channel.equals(inner.get("channel"))) {
        data.add(inner.get("data"));
      }
    }
    return data;
  }

  @Test
  void inboundMiddlewareRunsWhereAPublishEntersAndOutboundWhereItIsDelivered() throws Exception {
    AGServer a = server();
    AGServer b = server();
    b.setMiddleware(AGServer.MIDDLEWARE_INBOUND, stream -> stream.consume(action ->
        action.allow(action.type() == AGAction.Type.PUBLISH_IN ? action.data() + "+in@b" : action.data())));
    a.setMiddleware(AGServer.MIDDLEWARE_OUTBOUND, stream -> stream.consume(action ->
        action.allow(action.data() + "+out@a")));
    List<Object> onExchangeOfA = new CopyOnWriteArrayList<>();
    a.exchange().subscribe("news").consume(onExchangeOfA::add);

    FakeTransport onA = new FakeTransport();
    FakeTransport onB = new FakeTransport();
    FakeTransport publisher = new FakeTransport();
    connect(a, onA).receive("{\"event\":\"#subscribe\",\"data\":{\"channel\":\"news\"},\"cid\":2}");
    connect(b, onB).receive("{\"event\":\"#subscribe\",\"data\":{\"channel\":\"news\"},\"cid\":2}");
    assertFalse(response(onA, 2).containsKey("error"));
    assertFalse(response(onB, 2).containsKey("error"));

    connect(b, publisher).receive("{\"event\":\"#publish\",\"data\":{\"channel\":\"news\",\"data\":\"hello\"},\"cid\":2}");
    assertFalse(response(publisher, 2).containsKey("error"));
    await().atMost(Duration.ofSeconds(20)).until(() -> !published(onA, "news").isEmpty()
        && !published(onB, "news").isEmpty() && !onExchangeOfA.isEmpty());
    assertEquals(List.of("hello+in@b+out@a"), published(onA, "news"));
    assertEquals(List.of("hello+in@b"), published(onB, "news"));
    assertEquals(List.of("hello+in@b"), onExchangeOfA);
  }

  @Test
  void whileRedisIsAwayAClientsSubscribeAndPublishGetBrokerErrorsAndItsSocketGoesOn() throws Exception {
    AGServer a = server();
    FakeTransport client = new FakeTransport();
    AGServerSocket socket = connect(a, client);
    redis.stop();

    socket.receive("{\"event\":\"#subscribe\",\"data\":{\"channel\":\"away\"},\"cid\":2}");
    socket.receive("{\"event\":\"#publish\",\"data\":{\"channel\":\"away\",\"data\":1},\"cid\":3}");
    assertEquals("BrokerError", ((Map<?, ?>) response(client, 2).get("error")).get("name"));
    assertEquals("BrokerError", ((Map<?, ?>) response(client, 3).get("error")).get("name"));
    assertEquals(List.of(), socket.subscriptions());
    assertFalse(a.broker().isSubscribed("away"), "the engine does not keep a refused socket's channel");
    assertEquals(AGServerSocket.OPEN, socket.state());

    redis.start();
    // The client tries again, as an application does on subscribeFail: this time it holds.
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).until(() -> {
      int cid = 10 + client.packets().size();
      socket.receive("{\"event\":\"#subscribe\",\"data\":{\"channel\":\"away\"},\"cid\":" + cid + "}");
      return !response(client, cid).containsKey("error");
    });
    assertTrue(socket.subscriptions().contains("away"));
    AGServer b = server();
    b.exchange().invokePublish("away", "back").toCompletableFuture().get();
    await().atMost(Duration.ofSeconds(20)).until(() -> published(client, "away").contains("back"));
  }
}
