package io.agserver.redis;

/**
 * Names in Redis. A channel {@code c} is the Redis channel {@code <prefix>:{c}}: the prefix keeps
 * deployments that share a Redis apart, and the braces are a Redis Cluster hash tag, so every
 * key of one channel (its pub/sub channel now, its history and presence later) falls in one hash
 * slot, where one script can reach them all. A channel name holding a {@code }} still works: the
 * tag then ends there, the same for all of that channel's keys.
 */
final class RedisKeys {

  private final String channelPrefix;

  RedisKeys(String prefix) {
    this.channelPrefix = prefix + ":{";
  }

  String channel(String channel) {
    return channelPrefix + channel + "}";
  }

  /** The SocketCluster channel of a Redis channel, or null for one that is not ours. */
  String channelOf(String redisChannel) {
    if (redisChannel == null || !redisChannel.startsWith(channelPrefix) || !redisChannel.endsWith("}")
        || redisChannel.length() < channelPrefix.length() + 1) {
      return null;
    }
    return redisChannel.substring(channelPrefix.length(), redisChannel.length() - 1);
  }
}
