package io.agserver.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.agserver.pubsub.StreamPosition;

/** The order of a history channel's publications on one instance, driven step by step. */
class PublicationOrderTest {

  private final List<String> delivered = new ArrayList<>();
  private final List<String> gapReads = new ArrayList<>();

  private final PublicationOrder order = new PublicationOrder(new PublicationOrder.Sink() {
    @Override
    public void deliver(PublicationOrder.Item item) {
      delivered.add(item.position().epoch() + "/" + item.position().offset());
    }

    @Override
    public void readGap(String channel, StreamPosition since) {
      gapReads.add(since.epoch() + "/" + since.offset());
    }

    @Override
    public void recheck(String channel) {
    }

    @Override
    public void lost(String channel, StreamPosition since, String why) {
    }
  });

  private static PublicationOrder.Item item(String epoch, long offset, boolean fromSubscription) {
    return new PublicationOrder.Item("c", "d", "f", new StreamPosition(offset, epoch), fromSubscription);
  }

  @Test
  void anOwnPublicationOfANewEpochIsDeliveredOnceWhenItsEchoArrives() {
    order.arrived(item("A", 1, true));
    order.arrived(item("A", 2, true));
    // The history expired: this instance's publish starts epoch B, and its reply overtakes the echo.
    order.arrived(item("B", 1, false));
    order.arrived(item("B", 1, true));
    order.arrived(item("B", 2, true));
    assertEquals(List.of("A/1", "A/2", "B/1", "B/2"), delivered);
    assertEquals(List.of(), gapReads);
  }

  @Test
  void aGapOnTheSubscriptionIsReadFromTheHistory() {
    order.arrived(item("A", 1, true));
    order.arrived(item("A", 3, true));
    assertEquals(List.of("A/1"), delivered);
    assertEquals(List.of("A/1"), gapReads);
    order.repaired("c", "A", List.of(new PublicationOrder.Entry(2, "f")), null);
    assertEquals(List.of("A/1", "A/2", "A/3"), delivered);
  }
}
