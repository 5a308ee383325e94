package io.agserver.redis;

/**
 * Names in Redis. A channel {@code c} is the Redis channel {@code <prefix>:{c}}: the prefix keeps
 * deployments that share a Redis apart, and the braces are a Redis Cluster hash tag, so every
 * key of one channel falls in one hash slot, where one script can reach them all. A channel name
 * holding a {@code }} still works: the tag then ends there, the same for all of that channel's keys.
 *
 * <p>A history channel keeps {@code <prefix>:history:{c}} (a stream, one entry per publication,
 * id {@code <offset>-1}, field {@code f} the encoded #publish frame) and {@code <prefix>:meta:{c}}
 * (a hash: {@code e} the epoch, {@code o} the latest offset). Presence keeps
 * {@code <prefix>:presence:{c}} (a hash: socket id to the member's JSON) and
 * {@code <prefix>:presence-expiry:{c}} (a sorted set: socket id scored by its expiry, in ms of
 * Redis's clock).
 *
 * <p>The admin page's list of instances is kept the way presence is, under one hash tag of its own:
 * {@code <prefix>:instances:{instances}} (instance id to its summary's JSON) and
 * {@code <prefix>:instances-expiry:{instances}} (instance id scored by its expiry).
 */
final class RedisKeys {

  private final String prefix;
  private final String channelPrefix;

  RedisKeys(String prefix) {
    this.prefix = prefix;
    this.channelPrefix = prefix + ":{";
  }

  String history(String channel) {
    return prefix + ":history:{" + channel + "}";
  }

  String meta(String channel) {
    return prefix + ":meta:{" + channel + "}";
  }

  String presence(String channel) {
    return prefix + ":presence:{" + channel + "}";
  }

  String presenceExpiry(String channel) {
    return prefix + ":presence-expiry:{" + channel + "}";
  }

  String instances() {
    return prefix + ":instances:{instances}";
  }

  String instancesExpiry() {
    return prefix + ":instances-expiry:{instances}";
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
