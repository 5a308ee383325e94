package io.agserver.redis;

import java.util.concurrent.CompletionStage;

/**
 * The engine's connections to Redis, standalone or cluster: one for subscriptions, one for
 * publishes. Commands called from threads other than Lettuce's are sent in the order they are
 * called, so a subscribe followed by an unsubscribe leaves Redis unsubscribed, whatever their
 * replies' timing; a command is refused rather than queued behind a connection still opening.
 */
interface RedisLink {

  /** What Redis tells the engine. Called on Lettuce's I/O threads: nothing here may block. */
  interface Listener {

    void message(String redisChannel, String payload);

    /** Redis confirmed a subscription (the engine's own, or one Lettuce renewed after a reconnect). */
    void subscribed(String redisChannel);

    /** Redis reports a channel unsubscribed: the engine's UNSUBSCRIBE, or its own doing (a slot moved). */
    void unsubscribed(String redisChannel);

    /** The subscription connection is back after a loss. */
    void reconnected();

    /** The subscription connection was lost; Lettuce reconnects by itself. */
    void disconnected();

    /** A cluster's nodes or slots changed: channels may live elsewhere now. */
    void topologyChanged();
  }

  /** Opens the connections; fails when Redis cannot be reached now. */
  CompletionStage<Void> connect();

  /** Whether the connections opened by {@link #connect} are open now (false while one reconnects). */
  boolean isOpen();

  CompletionStage<Void> subscribe(String redisChannel);

  CompletionStage<Void> unsubscribe(String redisChannel);

  /** One PUBLISH (SPUBLISH in a cluster): completes with Redis's reply. */
  CompletionStage<Void> publish(String redisChannel, String payload);

  /**
   * Runs a script whose keys all share one hash slot, on the connection publishes take (in a
   * cluster, the slot's primary): one caller's calls, and its publishes, reach Redis in the order
   * made. Completes with the script's array reply, on Lettuce's I/O thread.
   */
  CompletionStage<java.util.List<Object>> script(LuaScript script, String[] keys, String... args);

  /** Closes the connections; completes when they are closed. */
  java.util.concurrent.CompletableFuture<Void> close();
}
