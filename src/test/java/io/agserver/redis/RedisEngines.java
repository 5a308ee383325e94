package io.agserver.redis;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import io.agserver.config.RedisOptions;
import io.agserver.core.ManagedThreads;

/**
 * What a test of the Redis engine sets up: a redis-server of its own and engines on it (prefix
 * {@code test}, workers named {@code test-worker}, Lettuce's threads {@code test-redis}), their
 * warnings collected; all closed by {@link #close()}.
 */
final class RedisEngines implements AutoCloseable {

  final RedisProcess redis;
  final List<Throwable> warnings = new CopyOnWriteArrayList<>();
  final ExecutorService workers = Executors.newCachedThreadPool(ManagedThreads.daemonThreads("test-worker"));
  private final List<RedisBroker> brokers = new ArrayList<>();

  private RedisEngines(RedisProcess redis) {
    this.redis = redis;
  }

  static RedisEngines start(Path dir) throws Exception {
    return new RedisEngines(RedisProcess.start(dir));
  }

  /** An engine on {@code uri}, not yet asked to connect. */
  RedisBroker broker(String uri, UnaryOperator<RedisLink> decorate, Duration commandTimeout) {
    RedisBroker broker = new RedisBroker(new RedisOptions(List.of(uri), "test", false, 2_000, 1_000),
        commandTimeout, ManagedThreads.daemonThreads("test-redis"), workers, decorate);
    broker.onError(warnings::add);
    brokers.add(broker);
    return broker;
  }

  /** An engine on this Redis, connected. */
  RedisBroker connected(UnaryOperator<RedisLink> decorate) throws Exception {
    RedisBroker broker = broker(redis.uri(), decorate, Duration.ofSeconds(2));
    broker.ready().toCompletableFuture().get(20, TimeUnit.SECONDS);
    return broker;
  }

  RedisBroker connected() throws Exception {
    return connected(UnaryOperator.identity());
  }

  @Override
  public void close() throws Exception {
    brokers.forEach(RedisBroker::close);
    workers.shutdownNow();
    redis.close();
  }
}
