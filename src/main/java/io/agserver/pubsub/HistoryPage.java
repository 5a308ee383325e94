package io.agserver.pubsub;

import java.util.List;

/**
 * A read of a channel's history: its {@code epoch}, its latest {@code offset} (0 when nothing was
 * published in this epoch), and the publications asked for, oldest first.
 */
public record HistoryPage(String epoch, long offset, List<Publication> publications) {

  public HistoryPage {
    publications = List.copyOf(publications);
  }

  /** The channel's latest position. */
  public StreamPosition position() {
    return new StreamPosition(offset, epoch);
  }
}
