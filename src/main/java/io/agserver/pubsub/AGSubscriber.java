package io.agserver.pubsub;

/**
 * What a broker delivers publishes to: a socket, or the server's own exchange.
 */
public interface AGSubscriber {

  /** Unique among the broker's subscribers. */
  String id();

  /**
   * One publish on a channel this subscriber is subscribed to. {@code encoded} is the whole
   * {@code #publish} packet already encoded by the server's codec, shared by every subscriber;
   * it is null when the broker could not encode it once for all.
   */
  void deliverPublish(String channel, Object data, String encoded);

  /**
   * A publication on a history channel, at {@code position}. {@code encoded} is the plain
   * {@code #publish} packet, as {@link #deliverPublish} gets it; a subscriber that shows positions
   * (a socket's recovering subscription) builds its own.
   */
  default void deliverPublication(String channel, Object data, String encoded, StreamPosition position) {
    deliverPublish(channel, data, encoded);
  }
}
