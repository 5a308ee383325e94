package io.agserver.pubsub;

import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

import io.agserver.codec.AGCodec;

/**
 * Moves publishes between subscribers: in memory by default ({@link AGSimpleBroker}), across
 * instances for other engines. Chosen by {@code socketcluster.brokerEngine}.
 *
 * <p>Every call returns a stage of its own, even one completed at once: the exchange hands these
 * stages to application code as they are, and a completed future shared between calls would let
 * one caller's {@code obtrudeException} or {@code complete} reach every later caller.
 */
public interface BrokerEngine extends AutoCloseable {

  /** Adds the subscriber to the channel; completes when the broker has it. */
  CompletionStage<Void> subscribeSocket(AGSubscriber subscriber, String channel);

  /** Removes the subscriber from the channel; a subscriber that is not there is ignored. */
  CompletionStage<Void> unsubscribeSocket(AGSubscriber subscriber, String channel);

  /** Publishes; completes when every local subscriber has the message queued. */
  CompletionStage<Void> transmitPublish(String channel, Object data);

  /** As transmitPublish; an engine may acknowledge later (e.g. once a remote broker has it). */
  CompletionStage<Void> invokePublish(String channel, Object data);

  /** Channels with at least one local subscriber. */
  List<String> subscriptions();

  boolean isSubscribed(String channel);

  /** The codec publishes are encoded with, once for every subscriber. */
  void setCodecEngine(AGCodec codec);

  /** Completes when the engine accepts work (at once for the in-memory engine). */
  CompletionStage<Void> ready();

  /** Receives the engine's errors (lost connections, encoding failures ...). */
  void onError(Consumer<Throwable> handler);

  @Override
  void close();
}
