package io.agserver.redis;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;

/** One Redis server (or a proxy in front of one): SUBSCRIBE and PUBLISH. */
final class StandaloneLink implements RedisLink {

  private final RedisURI uri;
  private final RedisClient client;
  private final Listener listener;
  // Set once by connect(), read by every command: volatile, one writer.
  private volatile StatefulRedisPubSubConnection<String, String> subscriptions;
  private volatile StatefulRedisConnection<String, String> commands;
  // The scripts Redis has run for the commands connection since it last connected (see LuaScript).
  private final java.util.Set<String> loadedScripts = java.util.concurrent.ConcurrentHashMap.newKeySet();

  StandaloneLink(ClientResources resources, String uri, Duration timeout, int queueLimit, Listener listener) {
    this.uri = LettuceSetup.uri(uri);
    this.listener = listener;
    this.client = RedisClient.create(resources, this.uri);
    client.setOptions(LettuceSetup.options(timeout, queueLimit));
    client.addListener(new RedisConnectionStateListener() {
      @Override
      public void onRedisConnected(RedisChannelHandler<?, ?> connection, java.net.SocketAddress address) {
        // The first connect is connect()'s own; a later one is a reconnect of that connection.
        if (connection == subscriptions) {
          listener.reconnected();
        }
      }

      @Override
      public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
        if (connection == commands) {
          // The Redis it reconnects to may have restarted without them.
          loadedScripts.clear();
        }
        if (connection.isClosed()) {
          // Closed on purpose (close(), a cluster node that left): no reconnect follows.
          return;
        }
        if (connection == subscriptions) {
          listener.disconnected();
        }
      }
    });
  }

  @Override
  public CompletionStage<Void> connect() {
    CompletableFuture<StatefulRedisPubSubConnection<String, String>> pubSub =
        client.connectPubSubAsync(StringCodec.UTF8, uri).toCompletableFuture();
    CompletableFuture<StatefulRedisConnection<String, String>> plain =
        client.connectAsync(StringCodec.UTF8, uri).toCompletableFuture();
    return CompletableFuture.allOf(pubSub, plain).handle((ok, error) -> {
      if (error != null) {
        // One may have opened: close it, the next attempt opens both again.
        pubSub.thenAccept(StatefulRedisPubSubConnection::closeAsync);
        plain.thenAccept(StatefulRedisConnection::closeAsync);
        throw new java.util.concurrent.CompletionException(error);
      }
      StatefulRedisPubSubConnection<String, String> connection = pubSub.join();
      connection.addListener(new RedisPubSubAdapter<>() {
        @Override
        public void message(String channel, String message) {
          listener.message(channel, message);
        }

        @Override
        public void subscribed(String channel, long count) {
          listener.subscribed(channel);
        }

        @Override
        public void unsubscribed(String channel, long count) {
          listener.unsubscribed(channel);
        }
      });
      commands = plain.join();
      subscriptions = connection;
      return null;
    });
  }

  @Override
  public boolean isOpen() {
    StatefulRedisPubSubConnection<String, String> pubSub = subscriptions;
    StatefulRedisConnection<String, String> plain = commands;
    return pubSub != null && plain != null && pubSub.isOpen() && plain.isOpen();
  }

  @Override
  public CompletionStage<Void> subscribe(String redisChannel) {
    return subscriptions.async().subscribe(redisChannel);
  }

  @Override
  public CompletionStage<Void> unsubscribe(String redisChannel) {
    return subscriptions.async().unsubscribe(redisChannel);
  }

  @Override
  public CompletionStage<Void> publish(String redisChannel, String payload) {
    return commands.async().publish(redisChannel, payload).thenApply(receivers -> null);
  }

  @Override
  public CompletionStage<java.util.List<Object>> script(LuaScript script, String[] keys, String... args) {
    return script.run(commands.async(), loadedScripts, keys, args);
  }

  /** Closes every connection of the client, then completes. */
  @Override
  public CompletableFuture<Void> close() {
    return client.shutdownAsync(0, 2, java.util.concurrent.TimeUnit.SECONDS);
  }

}
