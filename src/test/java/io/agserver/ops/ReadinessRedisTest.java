package io.agserver.ops;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import org.eclipse.microprofile.health.HealthCheckResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.agserver.AGServer;
import io.agserver.TestAccess;
import io.agserver.config.AGServerOptions;
import io.agserver.core.SenderStatus;
import io.agserver.redis.RedisProcess;

/**
 * Readiness on the Redis engine, with a real redis-server killed and started again: DOWN while
 * Redis is unreachable (before the first connection, and after a loss), UP once it answers.
 */
class ReadinessRedisTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir
  Path dir;

  private RedisProcess redis;
  private AGServer server;

  @BeforeAll
  static void responses() {
    PlainResponses.install();
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (redis != null) {
      redis.close();
    }
  }

  @Test
  void readinessIsDownWhileRedisIsUnreachableAndUpWhenItAnswers() throws Exception {
    redis = RedisProcess.notStarted(dir);
    Map<String, String> config = Map.of("brokerEngine", "redis", "redis.uri", redis.uri());
    server = new AGServer(AGServerOptions.from(key -> Optional.ofNullable(config.get(key.substring(AGServerOptions.PREFIX.length())))),
        null, null, null);
    TestAccess.connections(server).transportStarted(() -> new SenderStatus(0, 0, 0, 0));
    ServerHealth health = new ServerHealth(TestAccess.status(server), () -> new WarmUp.State(WarmUp.Phase.OFF, null, 0));

    // Never connected yet.
    HealthCheckResponse before = health.readiness();
    assertEquals(HealthCheckResponse.Status.DOWN, before.getStatus());
    assertEquals("redis", before.getData().orElseThrow().get("brokerEngine"));
    assertEquals(false, before.getData().orElseThrow().get("brokerConnected"));

    redis.start();
    await().atMost(WAIT).until(() -> health.readiness().getStatus() == HealthCheckResponse.Status.UP);
    assertEquals(true, health.readiness().getData().orElseThrow().get("brokerConnected"));

    // Lost: DOWN (the server itself stays ready: this is the engine's connection now).
    redis.stop();
    await().atMost(WAIT).until(() -> health.readiness().getStatus() == HealthCheckResponse.Status.DOWN);
    assertEquals(false, health.readiness().getData().orElseThrow().get("brokerConnected"));
    assertEquals(true, health.readiness().getData().orElseThrow().get("ready"));

    redis.start();
    await().atMost(WAIT).until(() -> health.readiness().getStatus() == HealthCheckResponse.Status.UP);
  }
}
