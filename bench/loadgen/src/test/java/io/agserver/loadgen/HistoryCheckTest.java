package io.agserver.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The history check's arithmetic: every offset after the first position, once, in order. */
class HistoryCheckTest {
  private final HistoryCheck check = new HistoryCheck(new int[] {0, -1, 0}, 1);

  @Test
  void aCompleteStreamLosesNothing() {
    check.marker(0, 4, "e1", true);
    for (long o = 5; o <= 9; o++) {
      check.publication(0, o, "e1");
    }
    Map<String, Object> r = check.result();
    assertEquals(5L, r.get("delivered"));
    assertEquals(0L, r.get("lost"));
    assertEquals(0L, r.get("duplicates"));
    assertEquals("{\"offset\":9,\"epoch\":\"e1\"}", check.position(0));
  }

  @Test
  void aSkippedOffsetIsLostAndARepeatedOneADuplicate() {
    check.marker(0, 0, "e1", true);
    check.publication(0, 1, "e1");
    check.publication(0, 3, "e1");
    check.publication(0, 3, "e1");
    Map<String, Object> r = check.result();
    assertEquals(1L, r.get("lost"));
    assertEquals(1L, r.get("duplicates"));
  }

  @Test
  void aResubscriptionMustReplayUpToItsMarker() {
    check.marker(0, 0, "e1", true);
    check.publication(0, 1, "e1");
    check.publication(0, 2, "e1"); // replayed after a reconnect
    check.marker(0, 4, "e1", true); // but the marker says 4: 3 and 4 never came
    assertEquals(2L, check.result().get("lost"));
    assertEquals(1L, check.result().get("resubscribes"));
  }

  @Test
  void aSubscriberBehindItsChannelAtTheEndLostTheRest() {
    check.marker(0, 0, "e1", true);
    check.marker(2, 0, "e1", true);
    check.publication(0, 1, "e1");
    check.publication(0, 2, "e1");
    check.publication(2, 1, "e1");
    Map<String, Object> r = check.result();
    assertEquals(1L, r.get("lostAtTheEnd"));
    assertEquals(1L, r.get("lost"));
    assertEquals(2, r.get("subscribers"));
  }

  @Test
  void anUnrecoverableGapIsCountedApartAndTheSubscriberStartsOver() {
    check.marker(0, 7, "e1", true);
    check.marker(0, 3, "e2", false);
    check.publication(0, 4, "e2");
    Map<String, Object> r = check.result();
    assertEquals(1L, r.get("unrecovered"));
    assertEquals(0L, r.get("lost"));
    assertEquals("{\"offset\":4,\"epoch\":\"e2\"}", check.position(0));
    assertEquals("{}", check.position(2));
  }
}
