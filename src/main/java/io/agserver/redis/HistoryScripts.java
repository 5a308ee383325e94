package io.agserver.redis;

/**
 * The Lua of history channels: each call touches the keys of one channel (one hash slot, see
 * {@link RedisKeys}) and runs atomically, so offsets are consecutive across instances and a read
 * sees the stream and its meta at one moment.
 *
 * <p>An epoch that is missing (a channel never used, or whose keys' ttl ran out, or a Redis that
 * restarted empty) is replaced by the fresh one the caller passes, and whatever stream is left
 * is deleted: offsets start again at 1 in the new epoch.
 */
final class HistoryScripts {

  private HistoryScripts() {}

  /**
   * KEYS: stream, meta. ARGV: the Redis channel, the publishing instance's origin id, the encoded
   * #publish frame, the stream's size, its ttl in ms, a fresh epoch, the publish command
   * ({@code publish}, or {@code spublish} in a cluster: a script may SPUBLISH to a channel of its
   * own slot). Publishes {@code <origin>:<offset>:<epoch> <frame>} and returns
   * {@code {offset, epoch}}.
   */
  static final LuaScript PUBLISH = LuaScript.of("publish", """
      local epoch = redis.call('hget', KEYS[2], 'e')
      if not epoch then
        epoch = ARGV[6]
        redis.call('del', KEYS[1], KEYS[2])
        redis.call('hset', KEYS[2], 'e', epoch)
      end
      local offset = redis.call('hincrby', KEYS[2], 'o', 1)
      local id = string.format('%d', offset)
      redis.call('xadd', KEYS[1], 'MAXLEN', ARGV[4], id .. '-1', 'f', ARGV[3])
      redis.call('pexpire', KEYS[1], ARGV[5])
      redis.call('pexpire', KEYS[2], ARGV[5])
      redis.call(ARGV[7], ARGV[1], ARGV[2] .. ':' .. id .. ':' .. epoch .. ' ' .. ARGV[3])
      return {offset, epoch}
      """);

  /**
   * KEYS: stream, meta. ARGV: a fresh epoch, the ttl in ms of a meta made now ({@code 0}: none is
   * made, and a channel without one reads as epoch {@code ""}), the epoch of the
   * position to read from ({@code ""}: none), its offset, the limit ({@code <= 0}: none).
   * Returns {@code {offset, epoch, oldest, entries}}: the latest offset and the epoch, the oldest
   * offset the stream keeps (0 when empty; -1 when not looked at), and {@code id1, frame1, id2,
   * frame2 ...} oldest first: without a position the latest {@code limit} (all without a limit),
   * from a position of this epoch the latest {@code limit} of those after it. A position of
   * another epoch reads nothing.
   */
  static final LuaScript READ = LuaScript.of("history", """
      local meta = redis.call('hmget', KEYS[2], 'e', 'o')
      local epoch = meta[1]
      local offset = tonumber(meta[2]) or 0
      if not epoch then
        if ARGV[2] == '0' then
          return {0, '', -1, {}}
        end
        epoch = ARGV[1]
        offset = 0
        redis.call('del', KEYS[1], KEYS[2])
        redis.call('hset', KEYS[2], 'e', epoch, 'o', 0)
        redis.call('pexpire', KEYS[2], ARGV[2])
      end
      local limit = tonumber(ARGV[5])
      local entries
      local oldest = -1
      if ARGV[3] == '' then
        if limit > 0 then
          entries = redis.call('xrevrange', KEYS[1], '+', '-', 'COUNT', limit)
        else
          entries = redis.call('xrange', KEYS[1], '-', '+')
        end
      else
        local since = tonumber(ARGV[4])
        if ARGV[3] ~= epoch or since >= offset then
          return {offset, epoch, oldest, {}}
        end
        local first = redis.call('xrange', KEYS[1], '-', '+', 'COUNT', 1)
        oldest = 0
        if #first > 0 then
          oldest = tonumber(string.match(first[1][1], '^%d+'))
        end
        if oldest == 0 or oldest > since + 1 then
          return {offset, epoch, oldest, {}}
        end
        local from = string.format('%d-1', since + 1)
        if limit > 0 then
          entries = redis.call('xrevrange', KEYS[1], '+', from, 'COUNT', limit)
        else
          entries = redis.call('xrange', KEYS[1], from, '+')
        end
      end
      local out = {}
      if limit > 0 then
        for i = #entries, 1, -1 do
          out[#out + 1] = entries[i][1]
          out[#out + 1] = entries[i][2][2]
        end
      else
        for i = 1, #entries do
          out[#out + 1] = entries[i][1]
          out[#out + 1] = entries[i][2][2]
        end
      end
      return {offset, epoch, oldest, out}
      """);
}
