package io.agserver.pubsub;

import java.util.List;
import java.util.concurrent.CompletableFuture;
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

  // ---- history and presence (engines that do not keep them refuse with InvalidActionError) ----

  /**
   * Publishes on a history channel: in one atomic step the publication gets the channel's next
   * offset (1 more than the last, across every instance), is appended to the channel's history
   * (which keeps the latest {@code options.size()} and lives {@code options.ttl()} after its last
   * publication) and is published. Subscribers get it through
   * {@link AGSubscriber#deliverPublication}. Completes with its position.
   */
  default CompletionStage<StreamPosition> publishWithHistory(String channel, Object data, HistoryOptions options) {
    return CompletableFuture.failedFuture(io.agserver.protocol.AGError.invalidAction(
        "The " + getClass().getSimpleName() + " broker engine keeps no history"));
  }

  /**
   * Reads a history channel. Without {@code since}: its latest {@code limit} publications (all
   * it keeps when {@code limit <= 0}). With {@code since}: the publications after
   * {@code since.offset()} (the latest {@code limit} of them), or a failure with
   * {@code UnrecoverablePositionError} when {@code since.epoch()} is not the channel's epoch or
   * some of those publications are gone. A channel nobody published on has an epoch too (and
   * offset 0), so that a position taken from it stays valid.
   */
  default CompletionStage<HistoryPage> history(String channel, StreamPosition since, int limit, HistoryOptions options) {
    return CompletableFuture.failedFuture(io.agserver.protocol.AGError.invalidAction(
        "The " + getClass().getSimpleName() + " broker engine keeps no history"));
  }

  /**
   * Counts the member in the channel's presence until {@link #leavePresence}; an engine across
   * instances keeps its own members alive and lets them expire {@code ttl} after its instance is
   * gone.
   */
  default CompletionStage<Void> joinPresence(String channel, PresenceMember member, java.time.Duration ttl) {
    return CompletableFuture.failedFuture(io.agserver.protocol.AGError.invalidAction(
        "The " + getClass().getSimpleName() + " broker engine keeps no presence"));
  }

  /** Removes the member of that socket id from the channel's presence (nothing if absent). */
  default CompletionStage<Void> leavePresence(String channel, String memberId) {
    return CompletableFuture.failedFuture(io.agserver.protocol.AGError.invalidAction(
        "The " + getClass().getSimpleName() + " broker engine keeps no presence"));
  }

  /** The channel's members on every instance, one per socket. */
  default CompletionStage<java.util.List<PresenceMember>> presence(String channel) {
    return CompletableFuture.failedFuture(io.agserver.protocol.AGError.invalidAction(
        "The " + getClass().getSimpleName() + " broker engine keeps no presence"));
  }

  // ---- the admin page's list of instances ----

  /**
   * Makes this instance's summary readable by every instance for {@code ttl} (each instance with
   * the admin page on calls it every few seconds, so a dead one fades out). An engine that spans
   * instances stores it where the others read it; the memory engine has no others and keeps nothing.
   * A failure only means the other instances' pages miss this one for a while.
   */
  default CompletionStage<Void> announceInstance(io.agserver.ops.InstanceSummary summary, java.time.Duration ttl) {
    return CompletableFuture.completedFuture(null);
  }

  /**
   * The latest summary of every instance whose announcement has not expired, this one's given as
   * {@code self} (fresher than the one it stored); the memory engine: {@code self} alone.
   */
  default CompletionStage<List<io.agserver.ops.InstanceSummary>> instances(io.agserver.ops.InstanceSummary self) {
    return CompletableFuture.completedFuture(List.of(self));
  }

  /** Channels with at least one local subscriber. */
  List<String> subscriptions();

  /** How many channels have a local subscriber (read for the server's figures). */
  default int channelCount() {
    return subscriptions().size();
  }

  /** Local subscribers of the channel (sockets and the server's exchange); 0 if none. */
  default int subscriberCount(String channel) {
    return 0;
  }

  boolean isSubscribed(String channel);

  /** The codec publishes are encoded with, once for every subscriber. */
  void setCodecEngine(AGCodec codec);

  /** Completes when the engine accepts work (at once for the in-memory engine). */
  CompletionStage<Void> ready();

  /**
   * Whether the engine can carry publishes now: an engine across instances says whether its
   * connection to them is up (the readiness check reads it on every probe, so it must be cheap);
   * the in-memory engine always can.
   */
  default boolean isConnected() {
    return true;
  }

  /** Receives the engine's errors (lost connections, encoding failures ...). */
  void onError(Consumer<Throwable> handler);

  @Override
  void close();
}
