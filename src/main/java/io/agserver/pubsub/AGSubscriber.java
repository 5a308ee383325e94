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
}
