package io.agserver.redis;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import io.agserver.core.Failures;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;

/**
 * A Lua script the engine runs, by its SHA-1 digest (EVALSHA) once the connection is known to have
 * it, by its text (EVAL, which also caches it in Redis) until then or when Redis answers NOSCRIPT.
 *
 * <p>Each connection tracks the digests it has seen Redis run in {@code loaded}; the link empties
 * that set when the connection drops (a Redis that comes back may have restarted empty). So after
 * a restart the first calls send the text and cannot fail with NOSCRIPT: one caller's calls run in
 * the order they are made. Only a script cache flushed behind a live connection (SCRIPT FLUSH) is
 * found by NOSCRIPT, and then the calls that were already on their way run again as EVAL, after
 * the ones sent meanwhile.
 */
record LuaScript(String name, String text, String sha) {

  static LuaScript of(String name, String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
      return new LuaScript(name, text, HexFormat.of().formatHex(digest));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is missing", e);
    }
  }

  /** One call; completes on Lettuce's I/O thread with the script's array reply. */
  CompletableFuture<List<Object>> run(RedisScriptingAsyncCommands<String, String> redis, Set<String> loaded,
      String[] keys, String... args) {
    if (!loaded.contains(sha)) {
      return eval(redis, loaded, keys, args);
    }
    CompletableFuture<List<Object>> bySha = redis.<List<Object>>evalsha(sha, ScriptOutputType.MULTI, keys, args)
        .toCompletableFuture();
    return bySha.exceptionallyCompose(error -> {
      Throwable cause = Failures.unwrap(error);
      if (cause instanceof RedisNoScriptException
          || (cause.getMessage() != null && cause.getMessage().startsWith("NOSCRIPT"))) {
        loaded.remove(sha);
        return eval(redis, loaded, keys, args);
      }
      return CompletableFuture.failedFuture(cause);
    });
  }

  private CompletableFuture<List<Object>> eval(RedisScriptingAsyncCommands<String, String> redis, Set<String> loaded,
      String[] keys, String... args) {
    return redis.<List<Object>>eval(text, ScriptOutputType.MULTI, keys, args).toCompletableFuture()
        .thenApply(reply -> {
          loaded.add(sha);
          return reply;
        });
  }
}
