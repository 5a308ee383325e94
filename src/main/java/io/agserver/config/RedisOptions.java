package io.agserver.config;

import java.util.ArrayList;
import java.util.List;

/**
 * The Redis broker engine's options ({@code socketcluster.redis.*}), used when
 * {@code socketcluster.brokerEngine=redis}.
 *
 * @param uris     {@code socketcluster.redis.uri}: Lettuce's URI syntax ({@code redis://},
 *                 {@code rediss://}, password and database included); in cluster mode a
 *                 comma-separated list of seed nodes
 * @param prefix   {@code socketcluster.redis.prefix}: the start of every Redis key and channel name,
 *                 so that several deployments can share one Redis
 * @param cluster  {@code socketcluster.redis.cluster}: a Redis Cluster, with sharded pub/sub
 * @param timeout  {@code socketcluster.redis.timeout}: milliseconds a Redis command may take
 *                 before it fails (a publish with BrokerError); the engine uses at most half the
 *                 ackTimeout, so that a client's publish or subscribe is answered before its own
 *                 acknowledgement times out
 * @param queueLimit {@code socketcluster.redis.queueLimit}: commands that may wait for Redis on
 *                 one connection (a burst of publishes faster than Redis answers); one more fails
 *                 at once, a publish with BrokerError
 */
public record RedisOptions(List<String> uris, String prefix, boolean cluster, long timeout, int queueLimit) {

  public static final String DEFAULT_URI = "redis://127.0.0.1:6379";

  /** About a second of publishes at full speed; each waiting command holds its payload. */
  public static final int DEFAULT_QUEUE_LIMIT = 100_000;

  public RedisOptions {
    uris = List.copyOf(uris);
    if (uris.isEmpty()) {
      throw AGServerOptions.invalid("redis.uri", "", "a Redis URI");
    }
    if (!cluster && uris.size() > 1) {
      throw AGServerOptions.invalid("redis.uri", String.join(",", uris),
          "one Redis URI (a list names the seed nodes of a cluster: set socketcluster.redis.cluster=true)");
    }
    if (prefix == null || prefix.isEmpty() || prefix.contains("{") || prefix.contains("}")) {
      // Braces would change the hash slot a channel's keys fall in (see RedisKeys).
      throw AGServerOptions.invalid("redis.prefix", prefix, "a non-empty name without { or }");
    }
    if (timeout <= 0) {
      throw AGServerOptions.invalid("redis.timeout", timeout, "a number > 0");
    }
    if (queueLimit <= 0) {
      throw AGServerOptions.invalid("redis.queueLimit", queueLimit, "a number > 0");
    }
  }

  public static RedisOptions defaults() {
    return new RedisOptions(List.of(DEFAULT_URI), "agserver", false, 5_000, DEFAULT_QUEUE_LIMIT);
  }

  /** Splits a comma-separated URI list, dropping blanks. */
  static List<String> split(String raw) {
    List<String> uris = new ArrayList<>();
    for (String part : raw.split(",")) {
      if (!part.isBlank()) {
        uris.add(part.trim());
      }
    }
    return uris;
  }
}
