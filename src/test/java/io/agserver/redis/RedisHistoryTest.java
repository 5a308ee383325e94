package io.agserver.redis;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.agserver.protocol.AGError;
import io.agserver.protocol.Undefined;
import io.agserver.pubsub.HistoryOptions;
import io.agserver.pubsub.HistoryPage;
import io.agserver.pubsub.PresenceMember;
import io.agserver.pubsub.Publication;
import io.agserver.pubsub.RecordingSubscriber;
import io.agserver.pubsub.StreamPosition;

/** History channels and presence of the Redis engine, two instances on one real redis-server. */
class RedisHistoryTest {

  private static final HistoryOptions KEEP = new HistoryOptions(100, Duration.ofMinutes(5));

  @TempDir
  Path dir;

  private RedisEngines engines;
  private RedisProcess redis;
  private List<Throwable> warnings;

  @BeforeEach
  void startRedis() throws Exception {
    engines = RedisEngines.start(dir);
    redis = engines.redis;
    warnings = engines.warnings;
  }

  @AfterEach
  void stop() throws Exception {
    engines.close();
  }

  private RedisBroker connected() throws Exception {
    return engines.connected();
  }

  private static <T> T done(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  private static AGError failure(CompletionStage<?> stage) {
    ExecutionException failed = assertThrows(ExecutionException.class,
        () -> stage.toCompletableFuture().get(20, TimeUnit.SECONDS));
    return assertInstanceOf(AGError.class, failed.getCause());
  }

  private static List<Long> offsets(HistoryPage page) {
    return page.publications().stream().map(Publication::offset).toList();
  }

  private static List<Long> range(long from, long to) {
    return LongStream.rangeClosed(from, to).boxed().toList();
  }

  @Test
  void publicationsOfBothInstancesGetConsecutiveOffsetsInOneEpochAndReachEverySubscriberOnceInOrder() throws Exception {
    RedisBroker a = connected();
    RedisBroker b = connected();
    RecordingSubscriber onA1 = new RecordingSubscriber("a1");
    RecordingSubscriber onA2 = new RecordingSubscriber("a2");
    RecordingSubscriber onB = new RecordingSubscriber("b1");
    done(a.subscribeSocket(onA1, "h"));
    done(a.subscribeSocket(onA2, "h"));
    done(b.subscribeSocket(onB, "h"));
    int count = 300;
    List<CompletableFuture<StreamPosition>> published = new ArrayList<>();
    List<String> threads = new CopyOnWriteArrayList<>();
    for (int i = 0; i < count; i++) {
      published.add((i % 2 == 0 ? a : b).publishWithHistory("h", Map.of("n", i), KEEP)
          .whenComplete((position, error) -> threads.add(Thread.currentThread().getName())).toCompletableFuture());
    }
    Map<Integer, StreamPosition> positionOf = new HashMap<>();
    for (int i = 0; i < count; i++) {
      positionOf.put(i, done(published.get(i)));
    }
    Set<String> epochs = positionOf.values().stream().map(StreamPosition::epoch).collect(Collectors.toSet());
    assertEquals(1, epochs.size(), "one epoch");
    assertEquals(range(1, count), positionOf.values().stream().map(StreamPosition::offset).sorted().toList());
    // Completed on the workers (or, already complete, on the caller's thread), never on Lettuce's.
    assertTrue(threads.stream().noneMatch(name -> name.contains("test-redis")), threads.toString());

    for (RecordingSubscriber recorder : List.of(onA1, onA2, onB)) {
      await().atMost(Duration.ofSeconds(20)).until(() -> recorder.received.size() >= count);
      assertEquals(count, recorder.received.size(), recorder.id + " got each publication once");
      Set<Integer> seen = new HashSet<>();
      for (RecordingSubscriber.Publish got : recorder.received) {
        int n = ((Number) ((Map<?, ?>) got.data()).get("n")).intValue();
        assertTrue(seen.add(n), recorder.id + " got " + n + " twice");
        assertEquals(positionOf.get(n), got.position(), recorder.id + ": the position of " + n);
        assertEquals("{\"event\":\"#publish\",\"data\":{\"channel\":\"h\",\"data\":{\"n\":" + n + "}}}", got.encoded());
      }
      // Every instance delivers a channel's publications in offset order, its own included
      // (whose replies may overtake the others' messages).
      assertEquals(range(1, count), recorder.positions().stream().map(StreamPosition::offset).toList(), recorder.id);
      // One publisher's publications in the order made, with increasing offsets.
      for (int parity = 0; parity < 2; parity++) {
        int p = parity;
        List<Integer> ofOne = recorder.received.stream().map(got -> ((Number) ((Map<?, ?>) got.data()).get("n")).intValue())
            .filter(n -> n % 2 == p).toList();
        assertEquals(ofOne.stream().sorted().toList(), ofOne, recorder.id + ": one publisher's order");
        List<Long> offsetsOfOne = ofOne.stream().map(n -> positionOf.get(n).offset()).toList();
        assertEquals(offsetsOfOne.stream().sorted().toList(), offsetsOfOne);
      }
    }
    // A plain publish on the same channel still arrives, without a position.
    onA1.received.clear();
    done(b.invokePublish("h", "plain"));
    await().atMost(Duration.ofSeconds(20)).until(() -> onA1.has("plain"));
    assertNull(onA1.received.get(0).position());
  }

  @Test
  void historyGivesTheLatestOrThoseAfterAPositionOldestFirst() throws Exception {
    RedisBroker a = connected();
    RedisBroker b = connected();
    StreamPosition last = null;
    for (int i = 1; i <= 10; i++) {
      last = done(a.publishWithHistory("log", "m" + i, KEEP));
    }
    String epoch = last.epoch();
    assertEquals(new StreamPosition(10, epoch), last);

    HistoryPage all = done(b.history("log", null, 0, KEEP));
    assertEquals(new StreamPosition(10, epoch), all.position());
    assertEquals(range(1, 10), offsets(all));
    assertEquals("m1", all.publications().get(0).data());
    assertEquals("m10", all.publications().get(9).data());

    assertEquals(range(8, 10), offsets(done(b.history("log", null, 3, KEEP))));
    HistoryPage since = done(b.history("log", new StreamPosition(4, epoch), 0, KEEP));
    assertEquals(range(5, 10), offsets(since));
    assertEquals("m5", since.publications().get(0).data());
    assertEquals(range(9, 10), offsets(done(b.history("log", new StreamPosition(4, epoch), 2, KEEP))));
    HistoryPage upToDate = done(b.history("log", last, 0, KEEP));
    assertEquals(List.of(), upToDate.publications());
    assertEquals(last, upToDate.position());

    // A publish without data keeps none.
    done(b.publishWithHistory("log", Undefined.INSTANCE, KEEP));
    assertEquals(Undefined.INSTANCE, done(a.history("log", last, 0, KEEP)).publications().get(0).data());

    // A channel nobody published on has an epoch already, kept for the next publications.
    HistoryPage fresh = done(a.history("new", null, 0, KEEP));
    assertEquals(0, fresh.offset());
    assertFalse(fresh.epoch().isEmpty());
    assertEquals(fresh.position(), done(b.history("new", null, 0, KEEP)).position());
    assertEquals(new StreamPosition(1, fresh.epoch()), done(b.publishWithHistory("new", "first", KEEP)));
    assertEquals(range(1, 1), offsets(done(a.history("new", fresh.position(), 0, KEEP))));
    assertTrue(Long.parseLong(redis.cli("PTTL", "test:meta:{new}").trim()) > 0, "the meta of a read channel expires");
  }

  @Test
  void aPositionOfAnotherEpochOrBeforeWhatTheHistoryKeepsIsUnrecoverable() throws Exception {
    RedisBroker a = connected();
    RedisBroker b = connected();
    HistoryOptions three = new HistoryOptions(3, Duration.ofMinutes(5));
    StreamPosition last = null;
    for (int i = 1; i <= 10; i++) {
      last = done(a.publishWithHistory("short", i, three));
    }
    String epoch = last.epoch();
    assertEquals(range(8, 10), offsets(done(b.history("short", null, 0, three))));
    assertEquals(range(8, 10), offsets(done(b.history("short", new StreamPosition(7, epoch), 0, three))));

    AGError trimmed = failure(b.history("short", new StreamPosition(2, epoch), 0, three));
    assertEquals("UnrecoverablePositionError", trimmed.name());
    assertEquals("UnrecoverablePositionError",
        failure(b.history("short", new StreamPosition(6, epoch), 2, three)).name());
    assertEquals("UnrecoverablePositionError",
        failure(b.history("short", new StreamPosition(7, "another"), 0, three)).name());
    assertEquals("UnrecoverablePositionError",
        failure(b.history("short", new StreamPosition(11, epoch), 0, three)).name());
  }

  @Test
  void theEpochChangesWhenTheHistoryExpiresAndWhenRedisRestartsEmpty() throws Exception {
    RedisBroker a = connected();
    RedisBroker b = connected();
    HistoryOptions brief = new HistoryOptions(10, Duration.ofSeconds(1));
    done(a.publishWithHistory("fading", 1, brief));
    StreamPosition before = done(b.publishWithHistory("fading", 2, brief));
    assertEquals(2, before.offset());
    await().atMost(Duration.ofSeconds(20)).until(() -> redis.cli("EXISTS", "test:meta:{fading}", "test:history:{fading}")
        .trim().equals("0"));
    StreamPosition after = done(a.publishWithHistory("fading", 3, brief));
    assertEquals(1, after.offset());
    assertNotEquals(before.epoch(), after.epoch());
    assertEquals("UnrecoverablePositionError", failure(b.history("fading", before, 0, brief)).name());
    assertEquals(range(1, 1), offsets(done(b.history("fading", null, 0, brief))));

    StreamPosition kept = done(a.publishWithHistory("kept", "x", KEEP));
    redis.stop();
    assertEquals("BrokerError", failure(a.publishWithHistory("kept", "down", KEEP)).name());
    assertEquals("BrokerError", failure(b.history("kept", null, 0, KEEP)).name());
    redis.start();
    StreamPosition[] restarted = new StreamPosition[1];
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
      try {
        restarted[0] = done(b.publishWithHistory("kept", "y", KEEP));
        return true;
      } catch (ExecutionException notYet) {
        return false;
      }
    });
    assertEquals(1, restarted[0].offset());
    assertNotEquals(kept.epoch(), restarted[0].epoch());
    assertEquals("UnrecoverablePositionError", failure(a.history("kept", kept, 0, KEEP)).name());
  }

  private static Map<String, Object> members(List<PresenceMember> members) {
    Map<String, Object> byId = new HashMap<>();
    for (PresenceMember member : members) {
      assertFalse(byId.containsKey(member.id()), member.id() + " twice");
      byId.put(member.id(), member.user());
    }
    return byId;
  }

  @Test
  void presenceMembersJoinAndLeaveOnEitherInstanceAndBothSeeThem() throws Exception {
    RedisBroker a = connected();
    RedisBroker b = connected();
    Duration ttl = Duration.ofMinutes(1);
    done(a.joinPresence("lobby", new PresenceMember("s1", Map.of("name", "ann", "age", 7)), ttl));
    done(b.joinPresence("lobby", new PresenceMember("s2", "bob"), ttl));
    done(a.joinPresence("lobby", new PresenceMember("s3", null), ttl));
    done(b.joinPresence("elsewhere", new PresenceMember("s4", 4), ttl));
    Map<String, Object> expected = new HashMap<>();
    expected.put("s1", Map.of("name", "ann", "age", 7));
    expected.put("s2", "bob");
    expected.put("s3", null);
    for (RedisBroker reader : List.of(a, b)) {
      Map<String, Object> got = members(done(reader.presence("lobby")));
      assertEquals(expected.keySet(), got.keySet());
      assertEquals("ann", ((Map<?, ?>) got.get("s1")).get("name"));
      assertEquals(7, ((Number) ((Map<?, ?>) got.get("s1")).get("age")).intValue());
      assertEquals("bob", got.get("s2"));
      assertNull(got.get("s3"));
    }
    done(b.leavePresence("lobby", "s2"));
    done(b.leavePresence("lobby", "nobody"));
    assertEquals(Set.of("s1", "s3"), members(done(a.presence("lobby"))).keySet());
    done(a.leavePresence("lobby", "s1"));
    assertEquals(Set.of("s3"), members(done(b.presence("lobby"))).keySet());
    assertEquals(Set.of("s4"), members(done(a.presence("elsewhere"))).keySet());
    assertEquals(List.of(), done(a.presence("empty")));
  }

  @Test
  void theMembersOfAClosedInstanceExpireWhileTheOthersAreRefreshed() throws Exception {
    RedisBroker a = connected();
    RedisBroker b = connected();
    Duration ttl = Duration.ofMillis(1500);
    // b's joined first: without its refreshes it would expire before a's.
    done(b.joinPresence("room", new PresenceMember("on-b", "b"), ttl));
    done(a.joinPresence("room", new PresenceMember("on-a", "a"), ttl));
    assertEquals(Set.of("on-a", "on-b"), members(done(b.presence("room"))).keySet());
    a.close();
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
        .until(() -> !members(done(b.presence("room"))).containsKey("on-a"));
    assertEquals(Set.of("on-b"), members(done(b.presence("room"))).keySet());
    // Left on purpose, it is gone at once and not refreshed back.
    done(b.leavePresence("room", "on-b"));
    assertEquals(Set.of(), members(done(b.presence("room"))).keySet());
    assertEquals("0", redis.cli("HLEN", "test:presence:{room}").trim());
  }

  @Test
  void anInstanceAddsItsMembersAgainAfterRedisRestartsEmpty() throws Exception {
    RedisBroker a = connected();
    RedisBroker b = connected();
    // A ttl long enough that no periodic refresh comes before the await ends.
    done(a.joinPresence("stay", new PresenceMember("s1", "ann"), Duration.ofMinutes(10)));
    redis.stop();
    assertEquals("BrokerError", failure(b.presence("stay")).name());
    redis.start();
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
      try {
        return members(done(b.presence("stay"))).containsKey("s1");
      } catch (ExecutionException notYet) {
        return false;
      }
    });
    assertEquals("ann", members(done(b.presence("stay"))).get("s1"));
  }

  /** What another instance's publication whose message never arrived leaves in Redis: its entry, its offset. */
  private void publishWithoutMessage(String channel, long offset, int data) throws Exception {
    redis.cli("HINCRBY", "test:meta:{" + channel + "}", "o", "1");
    redis.cli("XADD", "test:history:{" + channel + "}", offset + "-1", "f",
        "{\"event\":\"#publish\",\"data\":{\"channel\":\"" + channel + "\",\"data\":" + data + "}}");
  }

  private static List<Long> offsetsOf(RecordingSubscriber recorder) {
    return recorder.positions().stream().map(StreamPosition::offset).toList();
  }

  @Test
  void aPublicationWhoseMessageWasLostIsReadFromTheHistoryAndDeliveredBeforeTheNext() throws Exception {
    RedisBroker a = connected();
    RedisBroker b = connected();
    RecordingSubscriber onA = new RecordingSubscriber("a");
    RecordingSubscriber onB = new RecordingSubscriber("b");
    done(a.subscribeSocket(onA, "gappy"));
    done(b.subscribeSocket(onB, "gappy"));
    done(b.publishWithHistory("gappy", 1, KEEP));
    done(a.publishWithHistory("gappy", 2, KEEP));
    publishWithoutMessage("gappy", 3, 3);
    StreamPosition fourth = done(b.publishWithHistory("gappy", 4, KEEP));
    assertEquals(4, fourth.offset());
    for (RecordingSubscriber recorder : List.of(onA, onB)) {
      await().atMost(Duration.ofSeconds(20)).until(() -> recorder.received.size() >= 4);
      assertEquals(range(1, 4), offsetsOf(recorder), recorder.id);
      assertEquals(List.of(1, 2, 3, 4), recorder.data(Integer.class), recorder.id);
      assertEquals("{\"event\":\"#publish\",\"data\":{\"channel\":\"gappy\",\"data\":3}}",
          recorder.received.get(2).encoded());
    }
  }

  @Test
  void publicationsMadeWhileTheSubscriptionWasDownAreDeliveredOnceItIsRenewed() throws Exception {
    RedisBroker a = connected();
    RedisBroker b = connected();
    RecordingSubscriber onA = new RecordingSubscriber("a");
    done(a.subscribeSocket(onA, "renewed"));
    done(b.publishWithHistory("renewed", 1, KEEP));
    await().atMost(Duration.ofSeconds(20)).until(() -> onA.received.size() == 1);
    // Published while nobody listens, then the subscription connections drop and are renewed.
    publishWithoutMessage("renewed", 2, 2);
    publishWithoutMessage("renewed", 3, 3);
    redis.cli("CLIENT", "KILL", "TYPE", "pubsub");
    await().atMost(Duration.ofSeconds(20)).until(() -> onA.received.size() >= 3);
    assertEquals(range(1, 3), offsetsOf(onA));
    done(b.publishWithHistory("renewed", 4, KEEP));
    await().atMost(Duration.ofSeconds(20)).until(() -> onA.received.size() >= 4);
    assertEquals(range(1, 4), offsetsOf(onA));
    assertEquals(List.of(1, 2, 3, 4), onA.data(Integer.class));
  }
}
