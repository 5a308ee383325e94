package io.agserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.agserver.codec.JsonCodec;
import io.agserver.middleware.InboundMiddleware;
import io.agserver.pubsub.HistoryOptions;
import io.agserver.pubsub.StreamPosition;

/** #history, #presence and recovering subscriptions, through sockets on recording transports. */
class HistoryPresenceTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private final List<Object> events = new CopyOnWriteArrayList<>();
  private final TestClock clock = new TestClock();
  private AGServer server;

  @AfterEach
  void close() {
    if (server != null) {
      server.close();
    }
  }

  private AGServer server(Map<String, String> config) {
    server = new AGServer(TestServers.options(config), null, events::add, null, null, clock);
    return server;
  }

  private AGServerSocket connect(FakeTransport transport) {
    AGServerSocket socket = server.accept(transport, TestServers.request());
    socket.receive("{\"event\":\"#handshake\",\"cid\":1}");
    return socket;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> packet(String text) {
    return (Map<String, Object>) JsonCodec.instance().decode(text);
  }

  /** The answer to the request {@code cid}, waited for. */
  private static Map<String, Object> answer(FakeTransport transport, int cid) {
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> transport.packets().stream()
        .anyMatch(p -> p.startsWith("{\"rid\":" + cid + ",") || p.equals("{\"rid\":" + cid + "}")));
    return packet(transport.packets().stream()
        .filter(p -> p.startsWith("{\"rid\":" + cid + ",") || p.equals("{\"rid\":" + cid + "}")).findFirst().orElseThrow());
  }

  /** The data of every #publish packet on {@code channel}, in order. */
  @SuppressWarnings("unchecked")
  private static List<Object> published(FakeTransport transport, String channel) {
    List<Object> out = new ArrayList<>();
    for (String text : transport.packets()) {
      Map<String, Object> p = packet(text);
      if ("#publish".equals(p.get("event")) && channel.equals(((Map<String, Object>) p.get("data")).get("channel"))) {
        out.add(((Map<String, Object>) p.get("data")).get("data"));
      }
    }
    return out;
  }

  private void publish(String channel, Object data) {
    server.exchange().invokePublish(channel, data).toCompletableFuture().join();
  }

  @Test
  @SuppressWarnings("unchecked")
  void historyAnswersTheLatestPublicationsOldestFirstAndFromAPosition() {
    server(Map.of("history.channels", "chat.*", "history.size", "3"));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = connect(transport);
    for (int i = 1; i <= 5; i++) {
      publish("chat.room", "m" + i);
    }
    socket.receive("{\"event\":\"#history\",\"cid\":2,\"data\":{\"channel\":\"chat.room\"}}");
    Map<String, Object> all = (Map<String, Object>) answer(transport, 2).get("data");
    assertEquals(5, ((Number) all.get("offset")).intValue());
    assertEquals(List.of(Map.of("offset", 3, "data", "m3"), Map.of("offset", 4, "data", "m4"),
        Map.of("offset", 5, "data", "m5")), all.get("publications"));
    String epoch = (String) all.get("epoch");

    socket.receive("{\"event\":\"#history\",\"cid\":3,\"data\":{\"channel\":\"chat.room\",\"since\":{\"offset\":3,\"epoch\":\""
        + epoch + "\"},\"limit\":1}}");
    Map<String, Object> since = (Map<String, Object>) answer(transport, 3).get("data");
    assertEquals(List.of(Map.of("offset", 5, "data", "m5")), since.get("publications"));

    // Publications after offset 1 are gone (size 3), and another epoch is another history.
    socket.receive("{\"event\":\"#history\",\"cid\":4,\"data\":{\"channel\":\"chat.room\",\"since\":{\"offset\":1,\"epoch\":\""
        + epoch + "\"}}}");
    assertEquals("UnrecoverablePositionError", ((Map<String, Object>) answer(transport, 4).get("error")).get("name"));
    socket.receive("{\"event\":\"#history\",\"cid\":5,\"data\":{\"channel\":\"chat.room\",\"since\":{\"offset\":4,\"epoch\":\"other\"}}}");
    assertEquals("UnrecoverablePositionError", ((Map<String, Object>) answer(transport, 5).get("error")).get("name"));
    // A channel without history.
    socket.receive("{\"event\":\"#history\",\"cid\":6,\"data\":{\"channel\":\"news\"}}");
    assertEquals("InvalidActionError", ((Map<String, Object>) answer(transport, 6).get("error")).get("name"));
    socket.receive("{\"event\":\"#history\",\"cid\":7,\"data\":{\"channel\":\"chat.room\",\"limit\":-1}}");
    assertEquals("InvalidActionError", ((Map<String, Object>) answer(transport, 7).get("error")).get("name"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void aChannelsHistoryEndsWithItsTtlAndANewEpochBegins() {
    server(Map.of());
    server.keepHistory("feed", new HistoryOptions(10, Duration.ofSeconds(60)));
    publish("feed", "old");
    StreamPosition before = server.exchange().history("feed", null, 0).toCompletableFuture().join().position();
    assertEquals(1, before.offset());
    clock.set(clock.millis() + 61_000);
    var after = server.exchange().history("feed", null, 0).toCompletableFuture().join();
    assertEquals(0, after.offset());
    assertTrue(after.publications().isEmpty());
    assertNotEquals(before.epoch(), after.epoch());
    assertEquals(1, server.exchange().publishWithPosition("feed", "new").toCompletableFuture().join().offset());
  }

  @Test
  @SuppressWarnings("unchecked")
  void readingAChannelIsGuardedAsSubscribingToItIs() {
    server(Map.of("history.channels", "secret", "presence.channels", "secret"));
    List<AGAction> seen = new CopyOnWriteArrayList<>();
    server.setMiddlewareBeans(List.of((InboundMiddleware) action -> {
      if (action.type() == AGAction.SUBSCRIBE) {
        seen.add(action);
        return CompletableFuture.<Void>failedFuture(io.agserver.protocol.AGError.invalidAction("no"));
      }
      return CompletableFuture.<Void>completedFuture(null);
    }), bean -> 1);
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = connect(transport);
    socket.receive("{\"event\":\"#history\",\"cid\":2,\"data\":{\"channel\":\"secret\"}}");
    socket.receive("{\"event\":\"#presence\",\"cid\":3,\"data\":{\"channel\":\"secret\"}}");
    assertEquals("no", ((Map<String, Object>) answer(transport, 2).get("error")).get("message"));
    assertEquals("no", ((Map<String, Object>) answer(transport, 3).get("error")).get("message"));
    assertEquals(List.of("#history", "#presence"), seen.stream().map(AGAction::procedure).toList());
    assertTrue(seen.get(0).isChannelRead());
    assertEquals("secret", seen.get(0).channel());
  }

  @Test
  @SuppressWarnings("unchecked")
  void presenceListsEverySubscribedSocketAndNotifiesJoinsAndLeaves() {
    server(Map.of("presence.channels", "room.*"));
    FakeTransport watcherTransport = new FakeTransport();
    AGServerSocket watcher = connect(watcherTransport);
    watcher.receive("{\"event\":\"#subscribe\",\"cid\":2,\"data\":{\"channel\":\"#presence:room.1\"}}");
    answer(watcherTransport, 2);

    FakeTransport aliceTransport = new FakeTransport();
    AGServerSocket alice = connect(aliceTransport);
    alice.setAuthToken(Map.of("username", "alice")).toCompletableFuture().join();
    alice.receive("{\"event\":\"#subscribe\",\"cid\":2,\"data\":{\"channel\":\"room.1\"}}");
    answer(aliceTransport, 2);
    FakeTransport anonTransport = new FakeTransport();
    AGServerSocket anonymous = connect(anonTransport);
    anonymous.receive("{\"event\":\"#subscribe\",\"cid\":2,\"data\":{\"channel\":\"room.1\"}}");
    answer(anonTransport, 2);

    watcher.receive("{\"event\":\"#presence\",\"cid\":3,\"data\":{\"channel\":\"room.1\"}}");
    List<Object> members = (List<Object>) ((Map<String, Object>) answer(watcherTransport, 3).get("data")).get("members");
    java.util.Map<String, Object> aliceEntry = new java.util.HashMap<>();
    aliceEntry.put("id", alice.id());
    aliceEntry.put("user", "alice");
    java.util.Map<String, Object> anonEntry = new java.util.HashMap<>();
    anonEntry.put("id", anonymous.id());
    anonEntry.put("user", null);
    assertEquals(List.of(aliceEntry, anonEntry), members);

    alice.receive("{\"event\":\"#unsubscribe\",\"cid\":3,\"data\":\"room.1\"}");
    answer(aliceTransport, 3);
    anonymous.disconnect();
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> published(watcherTransport, "#presence:room.1").size() == 4);
    assertEquals(List.of(Map.of("join", aliceEntry), Map.of("join", anonEntry), Map.of("leave", aliceEntry),
        Map.of("leave", anonEntry)), published(watcherTransport, "#presence:room.1"));
    watcher.receive("{\"event\":\"#presence\",\"cid\":4,\"data\":{\"channel\":\"room.1\"}}");
    assertEquals(List.of(), ((Map<String, Object>) answer(watcherTransport, 4).get("data")).get("members"));
    // The notifications are the server's own.
    watcher.receive("{\"event\":\"#publish\",\"cid\":5,\"data\":{\"channel\":\"#presence:room.1\",\"data\":{\"join\":{}}}}");
    assertEquals("InvalidActionError", ((Map<String, Object>) answer(watcherTransport, 5).get("error")).get("name"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void aRecoveringSubscriptionGetsWhatItMissedBeforeLivePublicationsOnceEach() {
    server(Map.of("history.channels", "chat"));
    FakeTransport first = new FakeTransport();
    AGServerSocket before = connect(first);
    before.receive("{\"event\":\"#subscribe\",\"cid\":2,\"data\":{\"channel\":\"chat\",\"data\":{\"recover\":{}}}}");
    answer(first, 2);
    publish("chat", "a");
    publish("chat", "b");
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> published(first, "chat").size() == 3);
    List<Object> got = published(first, "chat");
    Map<String, Object> marker = (Map<String, Object>) got.get(0);
    String epoch = (String) marker.get("epoch");
    assertEquals(Map.of("offset", 0, "epoch", epoch, "recovered", true), marker);
    assertEquals(Map.of("offset", 1, "epoch", epoch, "data", "a"), got.get(1));
    assertEquals(Map.of("offset", 2, "epoch", epoch, "data", "b"), got.get(2));

    // The connection drops; two are published meanwhile; the client resubscribes from offset 2.
    before.disconnect();
    publish("chat", "c");
    publish("chat", "d");
    FakeTransport second = new FakeTransport();
    AGServerSocket after = connect(second);
    after.receive("{\"event\":\"#subscribe\",\"cid\":2,\"data\":{\"channel\":\"chat\",\"data\":{\"recover\":{\"offset\":2,\"epoch\":\""
        + epoch + "\"}}}}");
    answer(second, 2);
    publish("chat", "e");
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> published(second, "chat").size() == 4);
    assertEquals(List.of(Map.of("offset", 3, "epoch", epoch, "data", "c"), Map.of("offset", 4, "epoch", epoch, "data", "d"),
        Map.of("offset", 4, "epoch", epoch, "recovered", true), Map.of("offset", 5, "epoch", epoch, "data", "e")),
        published(second, "chat"));
    // The acknowledgement came before the replay.
    int ack = second.packets().indexOf("{\"rid\":2}");
    assertTrue(ack >= 0 && ack < second.packets().indexOf(second.packets().stream()
        .filter(p -> p.contains("\"#publish\"")).findFirst().orElseThrow()));
  }

  @Test
  @SuppressWarnings("unchecked")
  void aPositionThatCannotBeRecoveredIsToldWithTheChannelsPositionNow() {
    server(Map.of("history.channels", "chat", "history.size", "2"));
    for (int i = 0; i < 5; i++) {
      publish("chat", i);
    }
    String epoch = server.exchange().history("chat", null, 1).toCompletableFuture().join().epoch();
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = connect(transport);
    socket.receive("{\"event\":\"#subscribe\",\"cid\":2,\"data\":{\"channel\":\"chat\",\"data\":{\"recover\":{\"offset\":1,\"epoch\":\""
        + epoch + "\"}}}}");
    answer(transport, 2);
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> published(transport, "chat").size() == 1);
    assertEquals(Map.of("offset", 5, "epoch", epoch, "recovered", false), published(transport, "chat").get(0));
    // A subscription without recover on the same channel gets the bare data.
    FakeTransport plain = new FakeTransport();
    AGServerSocket other = connect(plain);
    other.receive("{\"event\":\"#subscribe\",\"cid\":2,\"data\":{\"channel\":\"chat\"}}");
    answer(plain, 2);
    publish("chat", "x");
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> published(plain, "chat").size() == 1);
    assertEquals("x", published(plain, "chat").get(0));
    assertFalse(published(transport, "chat").contains("x"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void recoverOnAChannelWithoutHistoryIsRefused() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = connect(transport);
    socket.receive("{\"event\":\"#subscribe\",\"cid\":2,\"data\":{\"channel\":\"news\",\"data\":{\"recover\":{}}}}");
    assertEquals("InvalidActionError", ((Map<String, Object>) answer(transport, 2).get("error")).get("name"));
    assertFalse(socket.isSubscribed("news"));
  }

  @Test
  void aServerSideChannelRecoversFromAKeptPositionBeforeLivePublications() throws Exception {
    server(Map.of("history.channels", "orders"));
    publish("orders", "one");
    StreamPosition kept = server.exchange().history("orders", null, 0).toCompletableFuture().join().position();
    publish("orders", "two");
    publish("orders", "three");
    List<io.agserver.pubsub.AGPublication> got = new CopyOnWriteArrayList<>();
    server.exchange().channel("orders").publications().consume(got::add);
    StreamPosition at = server.exchange().subscribe("orders", kept).toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertEquals(3, at.offset());
    publish("orders", "four");
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> got.size() == 3);
    assertEquals(List.of("two", "three", "four"), got.stream().map(io.agserver.pubsub.AGPublication::data).toList());
    assertEquals(List.of(2L, 3L, 4L), got.stream().map(p -> p.position().offset()).toList());
    // A channel the exchange holds cannot be recovered into (its consumers would get some twice).
    var held = server.exchange().subscribe("orders", kept).toCompletableFuture();
    assertTrue(assertFailsWith(held) instanceof IllegalStateException);
    // Another epoch cannot be recovered; the channel is live anyway.
    server.exchange().unsubscribe("orders");
    got.clear();
    var other = server.exchange().subscribe("orders", new StreamPosition(1, "other")).toCompletableFuture();
    assertEquals("UnrecoverablePositionError", ((io.agserver.protocol.AGError) assertFailsWith(other)).name());
    publish("orders", "five");
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> got.size() == 1);
    assertEquals("five", got.get(0).data());
  }

  private static Throwable assertFailsWith(CompletableFuture<?> future) {
    java.util.concurrent.ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(
        java.util.concurrent.ExecutionException.class, () -> future.get(10, java.util.concurrent.TimeUnit.SECONDS));
    return failed.getCause();
  }

  @Test
  @SuppressWarnings("unchecked")
  void aDeliveryStillOnItsWayWhenTheHistoryWasReadIsNotSentTwice() throws Exception {
    server(Map.of("history.channels", "chat"));
    publish("chat", "a");
    String epoch = server.exchange().history("chat", null, 1).toCompletableFuture().join().epoch();
    publish("chat", "b");
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = connect(transport);
    socket.receive("{\"event\":\"#subscribe\",\"cid\":2,\"data\":{\"channel\":\"chat\",\"data\":{\"recover\":{\"offset\":1,\"epoch\":\""
        + epoch + "\"}}}}");
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> published(transport, "chat").size() == 2);
    // The live delivery of b (offset 2), which the replay already sent, arrives late (another
    // connection than the history read's, a queue behind a slow subscriber).
    socket.deliverPublication("chat", "b", null, new StreamPosition(2, epoch));
    publish("chat", "c");
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> published(transport, "chat").size() >= 3);
    assertEquals(List.of(Map.of("offset", 2, "epoch", epoch, "data", "b"), Map.of("offset", 2, "epoch", epoch, "recovered", true),
        Map.of("offset", 3, "epoch", epoch, "data", "c")), published(transport, "chat"));

    // The same for a server-side channel recovering from a kept position.
    List<Object> got = new CopyOnWriteArrayList<>();
    server.exchange().channel("chat").stream().consume(got::add);
    server.exchange().subscribe("chat", new StreamPosition(2, epoch)).toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
    server.exchange().deliverPublication("chat", "c", null, new StreamPosition(3, epoch));
    publish("chat", "d");
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> got.contains("d"));
    assertEquals(List.of("c", "d"), got);
  }
}
