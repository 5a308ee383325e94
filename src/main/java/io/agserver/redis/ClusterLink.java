package io.agserver.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.event.ClusterTopologyChangedEvent;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.cluster.pubsub.RedisClusterPubSubAdapter;
import io.lettuce.core.cluster.pubsub.StatefulRedisClusterPubSubConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;

/**
 * A Redis Cluster with sharded pub/sub (Redis 7): a channel is SSUBSCRIBEd on the primary that owns
 * its hash slot, and SPUBLISH reaches that shard alone, so a publish costs one shard, not the
 * whole cluster as a plain PUBLISH would.
 *
 * <p>Lettuce sends SSUBSCRIBE to the cluster connection's default node, and a routed command
 * to a node connection that is still opening is refused (REJECT_COMMANDS); so this link sends
 * both SSUBSCRIBE and SPUBLISH on the node connection of the slot's primary itself. Those node
 * connections are opened by {@link #connect()} for every reachable primary, before the engine
 * reports ready. A command for a node whose connection is still opening (a primary that was
 * down, one that joined later) is refused, and the connection goes on opening: queued behind it
 * the command would run on Lettuce's thread once it opened, out of order with the commands
 * sent meanwhile. The engine renews refused subscriptions, and a publish refused so fails.
 *
 * <p>When a slot moves, Redis tells its subscribers with SUNSUBSCRIBE, and the engine renews the
 * channel on its new primary; after any change of topology it renews every channel.
 */
final class ClusterLink implements RedisLink {

  private final List<RedisURI> seeds = new ArrayList<>();
  private final RedisClusterClient client;
  private final Listener listener;
  private volatile StatefulRedisClusterPubSubConnection<String, String> subscriptions;
  private volatile StatefulRedisClusterConnection<String, String> commands;
  private final reactor.core.Disposable topologyEvents;
  // Per primary (node id): the scripts Redis has run on its connection since it last connected
  // (see LuaScript). Emptied whenever any command connection drops.
  private final java.util.Map<String, java.util.Set<String>> loadedScripts = new java.util.concurrent.ConcurrentHashMap<>();

  ClusterLink(ClientResources resources, List<String> uris, Duration timeout, int queueLimit, Listener listener) {
    for (String uri : uris) {
      seeds.add(LettuceSetup.uri(uri));
    }
    this.listener = listener;
    this.client = RedisClusterClient.create(resources, seeds);
    client.setOptions(LettuceSetup.clusterOptions(timeout, queueLimit));
    client.addListener(new RedisConnectionStateListener() {
      @Override
      public void onRedisConnected(RedisChannelHandler<?, ?> connection, java.net.SocketAddress address) {
        // A node's subscription connection came back (each node's reconnects on its own).
        if (subscriptions != null && connection instanceof StatefulRedisPubSubConnection<?, ?>) {
          listener.reconnected();
        }
      }

      @Override
      public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
        if (!(connection instanceof StatefulRedisPubSubConnection<?, ?>)) {
          // The node it reconnects to may have restarted without them.
          loadedScripts.clear();
        }
        if (connection.isClosed()) {
          // Closed on purpose (close(), a cluster node that left): no reconnect follows.
          return;
        }
        if (subscriptions != null && connection instanceof StatefulRedisPubSubConnection<?, ?>) {
          listener.disconnected();
        }
      }
    });
    this.topologyEvents = resources.eventBus().get()
        .filter(event -> event instanceof ClusterTopologyChangedEvent)
        .subscribe(event -> {
          if (subscriptions != null) {
            listener.topologyChanged();
          }
        });
  }

  @Override
  public CompletionStage<Void> connect() {
    // The asynchronous connects need the topology first (the synchronous ones read it themselves).
    return client.refreshPartitionsAsync().toCompletableFuture().thenCompose(topology -> connectAll());
  }

  private CompletableFuture<Void> connectAll() {
    CompletableFuture<StatefulRedisClusterPubSubConnection<String, String>> pubSub =
        client.connectPubSubAsync(StringCodec.UTF8).toCompletableFuture();
    CompletableFuture<StatefulRedisClusterConnection<String, String>> plain =
        client.connectAsync(StringCodec.UTF8).toCompletableFuture();
    return CompletableFuture.allOf(pubSub, plain).thenCompose(ok -> {
      StatefulRedisClusterPubSubConnection<String, String> connection = pubSub.join();
      // Messages arrive on the node connections; this hands them to the listener below.
      connection.setNodeMessagePropagation(true);
      connection.addListener(new RedisClusterPubSubAdapter<>() {
        @Override
        public void smessage(RedisClusterNode node, String channel, String message) {
          listener.message(channel, message);
        }

        @Override
        public void ssubscribed(RedisClusterNode node, String channel, long count) {
          listener.subscribed(channel);
        }

        @Override
        public void sunsubscribed(RedisClusterNode node, String channel, long count) {
          listener.unsubscribed(channel);
        }
      });
      // Both connections' node connections open now (see above). A primary that cannot be
      // reached now (its slots are failing over) does not hold up the others: its node
      // connections go on opening, and its channels are renewed once they can be.
      List<CompletableFuture<?>> nodes = new ArrayList<>();
      for (RedisClusterNode node : connection.getPartitions()) {
        if (node.getRole().isUpstream() && !node.is(RedisClusterNode.NodeFlag.FAIL)
            && !node.getSlots().isEmpty()) {
          nodes.add(connection.getConnectionAsync(node.getNodeId()).toCompletableFuture()
              .exceptionally(unreachable -> null));
          nodes.add(plain.join().getConnectionAsync(node.getNodeId()).toCompletableFuture()
              .exceptionally(unreachable -> null));
        }
      }
      return CompletableFuture.allOf(nodes.toArray(CompletableFuture[]::new)).thenRun(() -> {
        commands = plain.join();
        subscriptions = connection;
      });
    }).whenComplete((ok, error) -> {
      if (error != null) {
        pubSub.thenAccept(StatefulRedisClusterPubSubConnection::closeAsync);
        plain.thenAccept(StatefulRedisClusterConnection::closeAsync);
      }
    });
  }

  private CompletionStage<StatefulRedisPubSubConnection<String, String>> shardOf(String redisChannel) {
    RedisClusterNode primary = primaryOf(redisChannel);
    if (primary == null) {
      return noPrimary(redisChannel);
    }
    return opened(subscriptions.getConnectionAsync(primary.getNodeId()), primary);
  }

  /** The node connection if it is open now; refused otherwise (see the class comment). */
  private static <T> CompletionStage<T> opened(CompletionStage<T> connection, RedisClusterNode node) {
    CompletableFuture<T> future = connection.toCompletableFuture();
    if (future.isDone()) {
      return future;
    }
    return CompletableFuture.failedFuture(new IllegalStateException("The connection to Redis Cluster node "
        + node.getUri() + " is still opening"));
  }

  @Override
  public boolean isOpen() {
    StatefulRedisClusterPubSubConnection<String, String> pubSub = subscriptions;
    StatefulRedisClusterConnection<String, String> plain = commands;
    return pubSub != null && plain != null && pubSub.isOpen() && plain.isOpen();
  }

  @Override
  public CompletionStage<Void> subscribe(String redisChannel) {
    return shardOf(redisChannel).thenCompose(node -> node.async().ssubscribe(redisChannel));
  }

  @Override
  public CompletionStage<Void> unsubscribe(String redisChannel) {
    return shardOf(redisChannel).thenCompose(node -> node.async().sunsubscribe(redisChannel));
  }

  /**
   * Sent on the slot primary's node connection, opened by connect(): a completed connection
   * future runs the command at once, so one publisher's publishes leave in the order made.
   */
  @Override
  public CompletionStage<Void> publish(String redisChannel, String payload) {
    RedisClusterNode primary = primaryOf(redisChannel);
    if (primary == null) {
      return noPrimary(redisChannel);
    }
    return opened(commands.getConnectionAsync(primary.getNodeId()), primary)
        .thenCompose(node -> node.async().spublish(redisChannel, payload)).thenApply(receivers -> null);
  }

  /** As publish: on the connection of the primary of the first key's slot. */
  @Override
  public CompletionStage<List<Object>> script(LuaScript script, String[] keys, String... args) {
    RedisClusterNode primary = primaryOf(keys[0]);
    if (primary == null) {
      return noPrimary(keys[0]);
    }
    java.util.Set<String> loaded = loadedScripts.computeIfAbsent(primary.getNodeId(),
        id -> java.util.concurrent.ConcurrentHashMap.newKeySet());
    return opened(commands.getConnectionAsync(primary.getNodeId()), primary)
        .thenCompose(node -> script.run(node.async(), loaded, keys, args));
  }

  private RedisClusterNode primaryOf(String redisChannelOrKey) {
    return subscriptions.getPartitions().getMasterBySlot(SlotHash.getSlot(redisChannelOrKey));
  }

  private static <T> CompletionStage<T> noPrimary(String redisChannel) {
    return CompletableFuture.failedFuture(new IllegalStateException(
        "No Redis Cluster primary serves the hash slot of " + redisChannel));
  }


  /** Closes every connection of the client, then completes. */
  @Override
  public CompletableFuture<Void> close() {
    topologyEvents.dispose();
    return client.shutdownAsync(0, 2, java.util.concurrent.TimeUnit.SECONDS);
  }

}
