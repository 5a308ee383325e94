package io.agserver.pubsub;

/**
 * Where a publication sits in a history channel: its {@code offset} (1, 2, 3 ... by one per
 * publication) within the channel's {@code epoch}, a string that changes whenever the channel's
 * history was lost (its ttl ran out, Redis restarted empty), so that offsets of two epochs are
 * never compared.
 */
public record StreamPosition(long offset, String epoch) {

  public StreamPosition {
    if (offset < 0) {
      throw new IllegalArgumentException("offset " + offset + " < 0");
    }
    if (epoch == null) {
      throw new IllegalArgumentException("epoch is null");
    }
  }
}
