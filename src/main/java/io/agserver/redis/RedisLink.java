package io.agserver.redis;

import java.util.concurrent.CompletionStage;

/**
 * The engine's connections to Redis, standalone or cluster: one for subscriptions, one for
 * publishes. Commands on one channel are sent in the order they are called, so a subscribe
 * followed by an unsubscribe leaves Redis unsubscribed, whatever their replies' timing.
 */
interface RedisLink {

  /** What Redis tells the engine. Called on Lettuce's I/O threads: nothing here may block. */
  interface Listener {

    void message(String redisChannel, String payload);

    /** Redis confirmed a subscription (the engine's own, or one Lettuce renewed after a reconnect). */
    void subscribed(String redisChannel);

    /** The subscription connection is back after a loss. */
    void reconnected();

    /** The subscription connection was lost; Lettuce reconnects by itself. */
    void disconnected();
  }

  /** Opens the connections; fails when Redis cannot be reached now. */
  CompletionStage<Void> connect();

  CompletionStage<Void> subscribe(String redisChannel);

  CompletionStage<Void> unsubscribe(String redisChannel);

  /** One PUBLISH (SPUBLISH in a cluster): completes with Redis's reply. */
  CompletionStage<Void> publish(String redisChannel, String payload);

  /** Closes the connections; completes when they are closed. */
  java.util.concurrent.CompletableFuture<Void> close();
}
