package io.agserver.pubsub;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.function.Consumer;
import java.util.function.Function;

import io.agserver.stream.AGConsumer;
import io.agserver.stream.AGStream;
import io.agserver.stream.ConsumerStats;

/**
 * One channel as the server's exchange sees it: a stream of the data published to it (once the
 * exchange is subscribed), its state, and its listener streams ({@code subscribe},
 * {@code unsubscribe}). Cheap to create: the state lives in the exchange.
 */
public final class AGChannel {

  public static final String PENDING = "pending";
  public static final String SUBSCRIBED = "subscribed";
  public static final String UNSUBSCRIBED = "unsubscribed";

  private final String name;
  private final AGExchange exchange;

  AGChannel(String name, AGExchange exchange) {
    this.name = name;
    this.exchange = exchange;
  }

  public String name() {
    return name;
  }

  /** {@link #PENDING}, {@link #SUBSCRIBED} or {@link #UNSUBSCRIBED}. */
  public String state() {
    return exchange.getChannelState(name);
  }

  public Map<String, Object> options() {
    return exchange.getChannelOptions(name);
  }

  public AGChannel subscribe() {
    return exchange.subscribe(name);
  }

  public CompletionStage<Void> unsubscribe() {
    return exchange.unsubscribe(name);
  }

  public boolean isSubscribed() {
    return exchange.isSubscribed(name, false);
  }

  public boolean isSubscribed(boolean includePending) {
    return exchange.isSubscribed(name, includePending);
  }

  public CompletionStage<Void> transmitPublish(Object data) {
    return exchange.transmitPublish(name, data);
  }

  public CompletionStage<Void> invokePublish(Object data) {
    return exchange.invokePublish(name, data);
  }

  // ---- the data stream ----

  /** The stream of data published to this channel. */
  public AGStream<Object> stream() {
    return exchange.channelOutput(name);
  }

  /**
   * The channel's publications with their positions (offset and epoch on a history channel, null
   * otherwise), beside {@link #stream()}'s bare data.
   */
  public AGStream<AGPublication> publications() {
    return exchange.channelPublications(name);
  }

  public AGConsumer<Object> consume(Consumer<Object> handler) {
    return stream().consume(handler);
  }

  public AGConsumer<Object> consumeAsync(Function<Object, ? extends CompletionStage<?>> handler) {
    return stream().consumeAsync(handler);
  }

  public AGConsumer<Object> createConsumer() {
    return stream().createConsumer();
  }

  public CompletionStage<Object> once() {
    return stream().once();
  }

  public CompletionStage<Object> once(long timeoutMillis) {
    return stream().once(timeoutMillis);
  }

  public Flow.Publisher<Object> publisher() {
    return stream().publisher();
  }

  /** A listener stream of this channel: {@code subscribe} or {@code unsubscribe}. */
  public <E> AGStream<E> listener(String eventName) {
    return exchange.channelListener(name, eventName);
  }

  // ---- stream management ----

  public void close() {
    exchange.closeChannel(name);
  }

  public void kill() {
    exchange.killChannel(name);
  }

  public void closeOutput() {
    exchange.channelCloseOutput(name);
  }

  public void killOutput() {
    exchange.channelKillOutput(name);
  }

  public void closeListener(String eventName) {
    exchange.channelCloseListener(name, eventName);
  }

  public void closeAllListeners() {
    exchange.channelCloseAllListeners(name);
  }

  public void killListener(String eventName) {
    exchange.channelKillListener(name, eventName);
  }

  public void killAllListeners() {
    exchange.channelKillAllListeners(name);
  }

  public void killOutputConsumer(long consumerId) {
    if (hasOutputConsumer(consumerId)) {
      exchange.killChannelOutputConsumer(consumerId);
    }
  }

  public void killListenerConsumer(long consumerId) {
    if (hasAnyListenerConsumer(consumerId)) {
      exchange.killChannelListenerConsumer(consumerId);
    }
  }

  public Optional<ConsumerStats> getOutputConsumerStats(long consumerId) {
    return hasOutputConsumer(consumerId) ? exchange.getChannelOutputConsumerStats(consumerId) : Optional.empty();
  }

  public Optional<ConsumerStats> getListenerConsumerStats(long consumerId) {
    return hasAnyListenerConsumer(consumerId)
        ? exchange.getChannelListenerConsumerStats(consumerId) : Optional.empty();
  }

  public int getBackpressure() {
    return exchange.getChannelBackpressure(name);
  }

  public int getOutputBackpressure() {
    return exchange.channelGetOutputBackpressure(name);
  }

  public int getListenerBackpressure(String eventName) {
    return exchange.channelGetListenerBackpressure(name, eventName);
  }

  public int getAllListenersBackpressure() {
    return exchange.channelGetAllListenersBackpressure(name);
  }

  public int getOutputConsumerBackpressure(long consumerId) {
    return hasOutputConsumer(consumerId) ? exchange.getChannelOutputConsumerBackpressure(consumerId) : 0;
  }

  public int getListenerConsumerBackpressure(long consumerId) {
    return hasAnyListenerConsumer(consumerId) ? exchange.getChannelListenerConsumerBackpressure(consumerId) : 0;
  }

  public List<ConsumerStats> getOutputConsumerStatsList() {
    return exchange.channelGetOutputConsumerStatsList(name);
  }

  public List<ConsumerStats> getListenerConsumerStatsList(String eventName) {
    return exchange.channelGetListenerConsumerStatsList(name, eventName);
  }

  public List<ConsumerStats> getAllListenersConsumerStatsList() {
    return exchange.channelGetAllListenersConsumerStatsList(name);
  }

  public boolean hasOutputConsumer(long consumerId) {
    return exchange.channelHasOutputConsumer(name, consumerId);
  }

  public boolean hasListenerConsumer(String eventName, long consumerId) {
    return exchange.channelHasListenerConsumer(name, eventName, consumerId);
  }

  public boolean hasAnyListenerConsumer(long consumerId) {
    return exchange.channelHasAnyListenerConsumer(name, consumerId);
  }

  @Override
  public String toString() {
    return "AGChannel[" + name + ", " + state() + "]";
  }
}
