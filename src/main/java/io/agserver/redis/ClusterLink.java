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
 * connections are opened by {@link #connect()} for every primary, before the engine reports
 * ready: behind a connection that is still opening, commands would also run in any order, and
 * an SSUBSCRIBE overtaken by its SUNSUBSCRIBE would leave a channel subscribed for good. A
 * primary that joins later is connected on first use (its first commands may fail once).
 */
final class ClusterLink implements RedisLink {

  private final List<RedisURI> seeds = new ArrayList<>();
  private final RedisClusterClient client;
  private final Listener listener;
  private volatile StatefulRedisClusterPubSubConnection<String, String> subscriptions;
  private volatile StatefulRedisClusterConnection<String, String> commands;

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
        if (subscriptions != null && connection instanceof StatefulRedisPubSubConnection<?, ?>) {
          listener.disconnected();
        }
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
      });
      // Both connections' node connections open now: while one is still opening it refuses
      // commands (REJECT_COMMANDS), and its queue would not keep their order (see above).
      List<CompletableFuture<?>> nodes = new ArrayList<>();
      for (RedisClusterNode node : connection.getPartitions()) {
        if (node.getRole().isUpstream()) {
          nodes.add(connection.getConnectionAsync(node.getNodeId()));
          nodes.add(plain.join().getConnectionAsync(node.getNodeId()));
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
    return subscriptions.getConnectionAsync(primary.getNodeId());
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
    return commands.getConnectionAsync(primary.getNodeId())
        .thenCompose(node -> node.async().spublish(redisChannel, payload)).thenApply(receivers -> null);
  }

  private RedisClusterNode primaryOf(String redisChannel) {
    return subscriptions.getPartitions().getMasterBySlot(SlotHash.getSlot(redisChannel));
  }

  private static <T> CompletionStage<T> noPrimary(String redisChannel) {
    return CompletableFuture.failedFuture(new IllegalStateException(
        "No Redis Cluster primary serves the hash slot of " + redisChannel));
  }


  /** Closes every connection of the client, then completes. */
  @Override
  public CompletableFuture<Void> close() {
    return client.shutdownAsync(0, 2, java.util.concurrent.TimeUnit.SECONDS);
  }

}
