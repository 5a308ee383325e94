package io.agserver.redis;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.agserver.config.RedisOptions;
import io.agserver.core.ManagedThreads;
import io.agserver.protocol.AGError;
import io.agserver.pubsub.HistoryOptions;
import io.agserver.pubsub.HistoryPage;
import io.agserver.pubsub.PresenceMember;
import io.agserver.pubsub.Publication;
import io.agserver.pubsub.RecordingSubscriber;
import io.agserver.pubsub.StreamPosition;

/** The Redis engine of two instances on a three-node Redis Cluster, with sharded pub/sub. */
class RedisClusterBrokerTest {

  @TempDir
  static Path dir;

  private static List<RedisProcess> nodes;
  private static final List<RedisBroker> brokers = new ArrayList<>();
  private static final List<Throwable> warnings = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void startCluster() throws Exception {
    nodes = RedisProcess.cluster(dir);
  }

  @AfterAll
  static void stopCluster() throws Exception {
    brokers.forEach(RedisBroker::close);
    for (RedisProcess node : nodes) {
      node.close();
    }
  }

  private static RedisBroker broker() throws Exception {
    return broker("test");
  }

  private static RedisBroker broker(String prefix) throws Exception {
    // Seeds as an operator lists them; one is enough for Lettuce to find the others.
    List<String> seeds = nodes.stream().map(RedisProcess::uri).toList();
    RedisBroker broker = new RedisBroker(new RedisOptions(seeds, prefix, true, 2_000, 1_000),
        Duration.ofSeconds(2), ManagedThreads.daemonThreads("test-redis-cluster"), java.util.concurrent.ForkJoinPool.commonPool());
    broker.onError(warnings::add);
    brokers.add(broker);
    try {
      broker.ready().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("not ready; warnings: " + warnings, e);
    }
    return broker;
  }

  /** What the readiness check reads: a cluster engine that connected says so. */
  @Test
  void aConnectedEngineSaysItIsConnected() throws Exception {
    RedisBroker broker = broker();
    assertTrue(broker.isConnected());
    broker.close();
    assertTrue(!broker.isConnected());
  }

  @Test
  void channelsOnEveryShardReachEverySubscriberOnBothInstancesOnceAndEachChannelLivesOnItsOwnShard() throws Exception {
    RedisBroker a = broker();
    RedisBroker b = broker();
    int channelCount = 30;
    List<RecordingSubscriber> onA = new ArrayList<>();
    List<RecordingSubscriber> onB = new ArrayList<>();
    for (int i = 0; i < channelCount; i++) {
      RecordingSubscriber ra = new RecordingSubscriber("a" + i);
      RecordingSubscriber rb = new RecordingSubscriber("b" + i);
      a.subscribeSocket(ra, "ch-" + i).toCompletableFuture().get(20, TimeUnit.SECONDS);
      b.subscribeSocket(rb, "ch-" + i).toCompletableFuture().get(20, TimeUnit.SECONDS);
      onA.add(ra);
      onB.add(rb);
    }
    for (int n = 0; n < 20; n++) {
      for (int i = 0; i < channelCount; i++) {
        (n % 2 == 0 ? a : b).invokePublish("ch-" + i, n).toCompletableFuture().get(20, TimeUnit.SECONDS);
      }
    }
    for (int i = 0; i < channelCount; i++) {
      for (RecordingSubscriber recorder : List.of(onA.get(i), onB.get(i))) {
        await().atMost(Duration.ofSeconds(20)).until(() -> recorder.received.size() >= 20);
        List<Integer> got = recorder.received.stream().map(p -> ((Number) p.data()).intValue()).toList();
        assertEquals(java.util.stream.IntStream.range(0, 20).boxed().toList(), got.stream().sorted().toList(),
            recorder.id + ": each publish once");
        // Each publisher's in the order it made them (a's are the even ones, b's the odd ones);
        // a publish is not ordered against another instance's, even one made after it.
        for (int parity = 0; parity < 2; parity++) {
          int p = parity;
          List<Integer> ofOne = got.stream().filter(n -> n % 2 == p).toList();
          assertEquals(ofOne.stream().sorted().toList(), ofOne, recorder.id + ": one publisher's order");
        }
        assertTrue(recorder.received.stream().allMatch(p -> p.channel().equals("ch-" + recorder.id.substring(1))));
      }
    }
    // Sharded pub/sub: each channel is subscribed on the one primary that owns its slot, by each
    // instance; no node holds another's channels, and all three shards are in use.
    Set<String> seen = new HashSet<>();
    int shardsInUse = 0;
    for (RedisProcess node : nodes) {
      String[] held = node.cli("PUBSUB", "SHARDCHANNELS", "test:*").trim().split("\n");
      List<String> names = java.util.Arrays.stream(held).map(String::trim).filter(s -> !s.isEmpty()).toList();
      if (!names.isEmpty()) {
        shardsInUse++;
      }
      for (String name : names) {
        assertTrue(seen.add(name), name + " is subscribed on two shards");
        String[] numsub = node.cli("PUBSUB", "SHARDNUMSUB", name).trim().split("\n");
        assertEquals("2", numsub[numsub.length - 1].trim(), name + ": one subscription per instance");
      }
      assertEquals("", node.cli("PUBSUB", "CHANNELS").trim(), "no plain (cluster-wide) subscriptions");
    }
    assertEquals(channelCount, seen.size());
    assertEquals(3, shardsInUse);
  }

  @Test
  void historyChannelsOnEveryShardGetConsecutiveOffsetsAcrossInstancesAndReadBack() throws Exception {
    // A prefix of their own: the first test counts the channels of "test".
    RedisBroker a = broker("hist");
    RedisBroker b = broker("hist");
    HistoryOptions keep = new HistoryOptions(5, java.time.Duration.ofMinutes(5));
    int channelCount = 12;
    int perChannel = 10;
    List<RecordingSubscriber> onB = new ArrayList<>();
    for (int i = 0; i < channelCount; i++) {
      RecordingSubscriber recorder = new RecordingSubscriber("hb" + i);
      b.subscribeSocket(recorder, "hist-" + i).toCompletableFuture().get(20, TimeUnit.SECONDS);
      onB.add(recorder);
    }
    Set<Integer> slotsOwners = new HashSet<>();
    for (int i = 0; i < channelCount; i++) {
      String channel = "hist-" + i;
      List<StreamPosition> positions = new ArrayList<>();
      for (int n = 0; n < perChannel; n++) {
        positions.add((n % 2 == 0 ? a : b).publishWithHistory(channel, n, keep).toCompletableFuture().get(20, TimeUnit.SECONDS));
      }
      String epoch = positions.get(0).epoch();
      for (int n = 0; n < perChannel; n++) {
        assertEquals(new StreamPosition(n + 1, epoch), positions.get(n), channel);
      }
      RecordingSubscriber recorder = onB.get(i);
      await().atMost(Duration.ofSeconds(20)).until(() -> recorder.received.size() >= perChannel);
      assertEquals(positions, recorder.positions(), channel + ": each publication once, in order, with its position");
      HistoryPage page = a.history(channel, new StreamPosition(6, epoch), 0, keep).toCompletableFuture().get(20, TimeUnit.SECONDS);
      assertEquals(List.of(7L, 8L, 9L, 10L), page.publications().stream().map(Publication::offset).toList());
      assertEquals(6, ((Number) page.publications().get(0).data()).intValue());
      java.util.concurrent.ExecutionException lost = org.junit.jupiter.api.Assertions.assertThrows(
          java.util.concurrent.ExecutionException.class,
          () -> b.history(channel, new StreamPosition(2, epoch), 0, keep).toCompletableFuture().get(20, TimeUnit.SECONDS));
      assertEquals("UnrecoverablePositionError", ((AGError) lost.getCause()).name());
      for (int k = 0; k < nodes.size(); k++) {
        if (nodes.get(k).cli("EXISTS", "hist:history:{" + channel + "}").trim().equals("1")) {
          slotsOwners.add(k);
        }
      }
    }
    assertEquals(3, slotsOwners.size(), "the history channels live on every shard");
  }

  @Test
  void presenceOnEveryShardIsSharedByBothInstances() throws Exception {
    RedisBroker a = broker("hist");
    RedisBroker b = broker("hist");
    java.time.Duration ttl = java.time.Duration.ofMinutes(1);
    for (int i = 0; i < 12; i++) {
      String channel = "present-" + i;
      a.joinPresence(channel, new PresenceMember("a" + i, "ann"), ttl).toCompletableFuture().get(20, TimeUnit.SECONDS);
      b.joinPresence(channel, new PresenceMember("b" + i, null), ttl).toCompletableFuture().get(20, TimeUnit.SECONDS);
      for (RedisBroker reader : List.of(a, b)) {
        List<PresenceMember> members = reader.presence(channel).toCompletableFuture().get(20, TimeUnit.SECONDS);
        assertEquals(Set.of(new PresenceMember("a" + i, "ann"), new PresenceMember("b" + i, null)), new HashSet<>(members));
      }
      a.leavePresence(channel, "a" + i).toCompletableFuture().get(20, TimeUnit.SECONDS);
      assertEquals(List.of(new PresenceMember("b" + i, null)),
          b.presence(channel).toCompletableFuture().get(20, TimeUnit.SECONDS));
    }
  }
}
