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
import io.agserver.pubsub.RecordingSubscriber;

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
    // Seeds as an operator lists them; one is enough for Lettuce to find the others.
    List<String> seeds = nodes.stream().map(RedisProcess::uri).toList();
    RedisBroker broker = new RedisBroker(new RedisOptions(seeds, "test", true, 2_000, 1_000),
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
}
