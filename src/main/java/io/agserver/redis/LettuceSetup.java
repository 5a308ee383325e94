package io.agserver.redis;

import java.time.Duration;
import java.util.concurrent.ThreadFactory;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.DefaultClientResources;

/** How agserver configures Lettuce: one place, for both link kinds. */
final class LettuceSetup {

  private LettuceSetup() {}

  /**
   * Lettuce's I/O threads come from {@code threads} (the container's managed thread factory
   * where there is one). Reconnects start at 100 ms and back off to 2 s at most: after a Redis
   * restart publications flow again within seconds (Lettuce's default goes up to 30 s).
   */
  static ClientResources resources(ThreadFactory threads) {
    return DefaultClientResources.builder()
        .threadFactoryProvider(poolName -> threads)
        .ioThreadPoolSize(2)
        .computationThreadPoolSize(2)
        .reconnectDelay(Delay.exponential(Duration.ofMillis(100), Duration.ofSeconds(2), 2, java.util.concurrent.TimeUnit.MILLISECONDS))
        .build();
  }

  /**
   * While Redis is unreachable a command fails at once (REJECT_COMMANDS) rather than waiting in
   * Lettuce's buffer for a reconnect: a client's publish gets its BrokerError, not a silence past
   * its ack timeout. Commands waiting for a reply fail after {@code timeout}; at most
   * {@code queueLimit} commands wait on one connection, more fail at once.
   */
  static ClientOptions options(Duration timeout, int queueLimit) {
    return ClientOptions.builder()
        .autoReconnect(true)
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        .timeoutOptions(TimeoutOptions.enabled(timeout))
        .requestQueueSize(queueLimit)
        .build();
  }

  /** As {@link #options}, and the cluster's topology followed: refreshed on MOVED, ASK and reconnects. */
  static ClusterClientOptions clusterOptions(Duration timeout, int queueLimit) {
    return ClusterClientOptions.builder(options(timeout, queueLimit))
        .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
            .enableAllAdaptiveRefreshTriggers()
            .enablePeriodicRefresh(Duration.ofSeconds(30))
            .build())
        .build();
  }

  static RedisURI uri(String text) {
    return RedisURI.create(text);
  }

  /** The URI without its password, for messages. */
  static String describe(RedisURI uri) {
    return (uri.isSsl() ? "rediss://" : "redis://") + uri.getHost() + ":" + uri.getPort()
        + (uri.getDatabase() != 0 ? "/" + uri.getDatabase() : "");
  }
}
