package io.agserver.redis;

/**
 * The Lua of presence: a channel's members in a hash (socket id to the member's JSON) and their
 * expiry times in a sorted set, both keys of one hash slot (see {@link RedisKeys}). Expiry times
 * are taken from Redis's own clock (TIME), so instances whose clocks differ agree on them. The
 * admin page's list of instances uses the same scripts: an instance is a member, its summary the
 * member's JSON.
 */
final class PresenceScripts {

  private PresenceScripts() {}

  /**
   * KEYS: hash, sorted set. ARGV: the ttl in ms, then id1, json1, id2, json2 ... Stores (or
   * stores again: the same call refreshes an instance's members and re-adds them after Redis lost
   * them) each member with its expiry now + ttl; both keys live at least ttl longer. Members
   * already expired go first, as in {@link #READ}: an instance that died without leaving (killed,
   * Redis away at its close) is gone from the keys even when nobody reads them, and keeps its
   * live neighbours' refreshes from making the keys immortal.
   */
  static final LuaScript JOIN = LuaScript.of("presence-join", """
      local now = redis.call('time')
      local ttl = tonumber(ARGV[1])
      local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
      local expiry = string.format('%d', ms + ttl)
      local expired = redis.call('zrangebyscore', KEYS[2], '-inf', string.format('%d', ms))
      for i = 1, #expired, 500 do
        local last = math.min(i + 499, #expired)
        redis.call('hdel', KEYS[1], unpack(expired, i, last))
        redis.call('zrem', KEYS[2], unpack(expired, i, last))
      end
      for i = 2, #ARGV, 2 do
        redis.call('hset', KEYS[1], ARGV[i], ARGV[i + 1])
        redis.call('zadd', KEYS[2], expiry, ARGV[i])
      end
      for k = 1, 2 do
        local left = redis.call('pttl', KEYS[k])
        if left < ttl then
          redis.call('pexpire', KEYS[k], ttl)
        end
      end
      return {}
      """);

  /** KEYS: hash, sorted set. ARGV: the member's id. */
  static final LuaScript LEAVE = LuaScript.of("presence-leave", """
      redis.call('hdel', KEYS[1], ARGV[1])
      redis.call('zrem', KEYS[2], ARGV[1])
      return {}
      """);

  /**
   * KEYS: hash, sorted set. Drops the members whose expiry has passed, then returns the others:
   * {@code id1, json1, id2, json2 ...}.
   */
  static final LuaScript READ = LuaScript.of("presence", """
      local now = redis.call('time')
      local ms = string.format('%d', tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000))
      local expired = redis.call('zrangebyscore', KEYS[2], '-inf', ms)
      for i = 1, #expired, 500 do
        local last = math.min(i + 499, #expired)
        redis.call('hdel', KEYS[1], unpack(expired, i, last))
        redis.call('zrem', KEYS[2], unpack(expired, i, last))
      end
      return redis.call('hgetall', KEYS[1])
      """);
}
