package io.agserver.ops;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One instance as the admin page lists it beside the others: who it is and what it does now.
 * Each instance with the admin page on writes its own every few seconds where the other instances
 * read it ({@link io.agserver.pubsub.BrokerEngine#announceInstance}); rates are per second over
 * the instance's last sample.
 *
 * @param id                   stable while the server runs: its host name and a random suffix
 * @param host                 the host (or pod) name the instance runs on
 * @param startedAt            when the server started, ms since the epoch
 * @param updatedAt            when this summary was taken, ms since the epoch
 * @param connections          WebSocket connections open now
 * @param channels             channels with a subscriber on this instance
 * @param messagesInPerSecond  messages received from clients
 * @param messagesOutPerSecond frames sent to clients
 * @param publishesPerSecond   publishes that entered the exchange on this instance
 * @param deliveriesPerSecond  publications queued for this instance's sockets
 * @param slowConsumersCutOff  clients cut off since the start because they did not read
 *                             (outboundBufferLimit or sendTimeout)
 * @param draining             a graceful shutdown has started
 */
public record InstanceSummary(String id, String host, long startedAt, long updatedAt, int connections, int channels,
    double messagesInPerSecond, double messagesOutPerSecond, double publishesPerSecond, double deliveriesPerSecond,
    long slowConsumersCutOff, boolean draining) {

  /** As JSON would carry it (the names of the record's components). */
  public Map<String, Object> toMap() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("id", id);
    map.put("host", host);
    map.put("startedAt", startedAt);
    map.put("updatedAt", updatedAt);
    map.put("connections", connections);
    map.put("channels", channels);
    map.put("messagesInPerSecond", messagesInPerSecond);
    map.put("messagesOutPerSecond", messagesOutPerSecond);
    map.put("publishesPerSecond", publishesPerSecond);
    map.put("deliveriesPerSecond", deliveriesPerSecond);
    map.put("slowConsumersCutOff", slowConsumersCutOff);
    map.put("draining", draining);
    return map;
  }

  /**
   * Reads what {@link #toMap} wrote, possibly by another version of agserver: a missing or
   * mistyped figure reads as 0 (false); a summary without an id is refused.
   */
  public static InstanceSummary fromMap(Map<?, ?> map) {
    if (!(map.get("id") instanceof String id) || id.isEmpty()) {
      throw new IllegalArgumentException("an instance summary without an id");
    }
    return new InstanceSummary(id, map.get("host") instanceof String host ? host : "",
        whole(map.get("startedAt")), whole(map.get("updatedAt")), (int) whole(map.get("connections")),
        (int) whole(map.get("channels")), decimal(map.get("messagesInPerSecond")),
        decimal(map.get("messagesOutPerSecond")), decimal(map.get("publishesPerSecond")),
        decimal(map.get("deliveriesPerSecond")), whole(map.get("slowConsumersCutOff")),
        Boolean.TRUE.equals(map.get("draining")));
  }

  private static long whole(Object value) {
    return value instanceof Number number ? number.longValue() : 0;
  }

  private static double decimal(Object value) {
    return value instanceof Number number ? number.doubleValue() : 0;
  }
}
