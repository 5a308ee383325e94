package io.agserver.redis;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.agserver.ops.InstanceSummary;
import io.agserver.protocol.AGError;
import io.agserver.pubsub.AGSimpleBroker;

/** The admin page's list of instances on the Redis engine: two engines on one real redis-server. */
class RedisInstancesTest {

  @TempDir
  Path dir;

  private RedisEngines engines;

  @BeforeEach
  void startRedis() throws Exception {
    engines = RedisEngines.start(dir);
  }

  @AfterEach
  void stop() throws Exception {
    engines.close();
  }

  private static <T> T done(java.util.concurrent.CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  private static InstanceSummary summary(String id, long startedAt, int connections) {
    return new InstanceSummary(id, "host-" + id, startedAt, startedAt + 1000, connections, 2, 10.5, 20, 3, 40, 1, false);
  }

  private static List<String> ids(List<InstanceSummary> instances) {
    return instances.stream().map(InstanceSummary::id).toList();
  }

  @Test
  void eachInstanceSeesEveryAnnouncedInstanceWithItsOwnSummaryFresh() throws Exception {
    RedisBroker a = engines.connected();
    RedisBroker b = engines.connected();
    InstanceSummary first = summary("a-1", 1000, 5);
    InstanceSummary second = summary("b-2", 2000, 7);
    done(a.announceInstance(first, Duration.ofSeconds(30)));
    done(b.announceInstance(second, Duration.ofSeconds(30)));

    // Every figure makes the round trip; the list is in the order the instances started.
    assertEquals(List.of(first, second), done(a.instances(first)));
    // The reader's own summary is the one it passes (fresher than what it stored).
    InstanceSummary secondNow = summary("b-2", 2000, 9);
    assertEquals(List.of(first, secondNow), done(b.instances(secondNow)));
    // One that has not announced itself yet is listed all the same.
    InstanceSummary third = summary("c-3", 3000, 0);
    assertEquals(List.of("a-1", "b-2", "c-3"), ids(done(a.instances(third))));
    assertEquals(2, Integer.parseInt(engines.redis.cli("HLEN", "test:instances:{instances}").trim()));
  }

  @Test
  void anInstanceThatStopsAnnouncingFadesAndOneThatClosesLeavesAtOnce() throws Exception {
    RedisBroker a = engines.connected();
    RedisBroker b = engines.connected();
    RedisBroker c = engines.connected();
    InstanceSummary self = summary("a-1", 1000, 1);
    done(a.announceInstance(self, Duration.ofSeconds(30)));
    done(b.announceInstance(summary("b-2", 2000, 1), Duration.ofMillis(300)));
    done(c.announceInstance(summary("c-3", 3000, 1), Duration.ofSeconds(30)));
    assertEquals(List.of("a-1", "b-2", "c-3"), ids(done(a.instances(self))));

    // b stops announcing (a dead instance): gone once its ttl has passed in Redis's clock.
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
        .until(() -> ids(done(a.instances(self))), List.of("a-1", "c-3")::equals);
    assertEquals("0", engines.redis.cli("HEXISTS", "test:instances:{instances}", "b-2").trim());
    // c closes: its summary is removed as it goes, without waiting for its ttl.
    c.close();
    assertEquals(List.of("a-1"), ids(done(a.instances(self))));
  }

  @Test
  void aDeadInstancesSummaryIsDroppedByTheOthersAnnouncementsWithoutAnyRead() throws Exception {
    RedisBroker a = engines.connected();
    RedisBroker dead = engines.connected();
    done(dead.announceInstance(summary("dead-1", 1000, 1), Duration.ofMillis(200)));
    done(a.announceInstance(summary("a-2", 2000, 1), Duration.ofSeconds(30)));
    assertEquals("1", engines.redis.cli("HEXISTS", "test:instances:{instances}", "dead-1").trim());
    // Nobody opens the page: the live instance's announcements alone clear the dead one out.
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
      done(a.announceInstance(summary("a-2", 2000, 1), Duration.ofSeconds(30)));
      return engines.redis.cli("HEXISTS", "test:instances:{instances}", "dead-1").trim().equals("0");
    });
    assertEquals("", engines.redis.cli("ZSCORE", "test:instances-expiry:{instances}", "dead-1").trim(),
        "still in the expiry set");
  }

  @Test
  void anAnnouncementAfterTheEngineStartedClosingIsRefusedSoItCannotOutliveTheRemoval() throws Exception {
    RedisBroker a = engines.connected();
    done(a.announceInstance(summary("a-1", 1000, 1), Duration.ofSeconds(30)));
    a.close();
    assertEquals("0", engines.redis.cli("HEXISTS", "test:instances:{instances}", "a-1").trim());
    assertThrows(Exception.class, () -> done(a.announceInstance(summary("a-1", 1000, 1), Duration.ofSeconds(30))));
    assertEquals("0", engines.redis.cli("HEXISTS", "test:instances:{instances}", "a-1").trim());
  }

  @Test
  void aSummaryThatDoesNotReadAsOneIsSkipped() throws Exception {
    RedisBroker a = engines.connected();
    InstanceSummary self = summary("a-1", 1000, 1);
    done(a.announceInstance(self, Duration.ofSeconds(30)));
    engines.redis.cli("HSET", "test:instances:{instances}", "junk", "not json", "other", "{\"host\":\"x\"}");
    engines.redis.cli("ZADD", "test:instances-expiry:{instances}", "99999999999999", "junk", "99999999999999", "other");
    assertEquals(List.of("a-1"), ids(done(a.instances(self))));
  }

  @Test
  void withoutRedisTheListFailsWithABrokerErrorAndTheMemoryEngineListsItsOwnInstance() throws Exception {
    RedisBroker a = engines.connected();
    InstanceSummary self = summary("a-1", 1000, 1);
    engines.redis.close();
    await().atMost(Duration.ofSeconds(20)).until(() -> {
      try {
        done(a.instances(self));
        return false;
      } catch (ExecutionException e) {
        assertInstanceOf(AGError.class, e.getCause());
        assertEquals("BrokerError", ((AGError) e.getCause()).name());
        return true;
      }
    });
    AGSimpleBroker memory = new AGSimpleBroker();
    done(memory.announceInstance(self, Duration.ofSeconds(10)));
    assertEquals(List.of(self), done(memory.instances(self)));
    assertTrue(done(memory.instances(summary("x", 1, 1))).stream().noneMatch(self::equals));
  }
}
