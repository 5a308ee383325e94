package io.agserver.pubsub;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A subscriber that records every publish it gets, from any thread, for the engines' tests. */
public final class RecordingSubscriber implements AGSubscriber {

  /** One delivery as the engine made it; {@code position} is null for a plain publish. */
  public record Publish(String channel, Object data, String encoded, StreamPosition position) {}

  public final String id;
  public final List<Publish> received = new CopyOnWriteArrayList<>();

  public RecordingSubscriber(String id) {
    this.id = id;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public void deliverPublish(String channel, Object data, String encoded) {
    received.add(new Publish(channel, data, encoded, null));
  }

  @Override
  public void deliverPublication(String channel, Object data, String encoded, StreamPosition position) {
    received.add(new Publish(channel, data, encoded, position));
  }

  /** The positions of the publications delivered, in order. */
  public List<StreamPosition> positions() {
    return received.stream().map(Publish::position).toList();
  }

  public boolean has(Object data) {
    return count(data) > 0;
  }

  public long count(Object data) {
    return received.stream().filter(p -> data.equals(p.data())).count();
  }

  /** The data delivered, in order. */
  public <T> List<T> data(Class<T> type) {
    return received.stream().map(p -> type.cast(p.data())).toList();
  }
}
