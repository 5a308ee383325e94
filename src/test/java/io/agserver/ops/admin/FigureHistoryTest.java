package io.agserver.ops.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.agserver.ops.ServerFigures;

/** The admin chart's ring of samples: bounded, in order, rates between neighbours. */
class FigureHistoryTest {

  /** A snapshot at second {@code second} with {@code received} messages so far. */
  private static ServerFigures.Snapshot snapshot(long second, int connections, long received) {
    return new ServerFigures.Snapshot(Instant.ofEpochSecond(second), second * 1_000_000_000L, connections,
        connections, 0, 0, 0, 0, 0, 0, Map.of(), 0, received, 0, 2 * received, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0);
  }

  @Test
  void eachSampleHasTheRateSinceTheOneBefore() {
    FigureHistory history = new FigureHistory(10);
    assertNull(history.latest());
    FigureHistory.Sample first = history.add(snapshot(100, 3, 50));
    assertEquals(0, first.messagesInPerSecond());
    assertEquals(3, first.connections());
    assertEquals(3, first.cutOff());
    FigureHistory.Sample second = history.add(snapshot(102, 4, 70));
    assertEquals(10, second.messagesInPerSecond());
    assertEquals(20, second.messagesOutPerSecond());
    assertEquals(second, history.latest());
  }

  @Test
  void theRingKeepsTheLatestInOrderAndGivesThoseAfterAMoment() {
    FigureHistory history = new FigureHistory(3);
    for (int i = 1; i <= 7; i++) {
      history.add(snapshot(i * 2, i, i));
    }
    assertEquals(List.of(10_000L, 12_000L, 14_000L), history.since(Long.MIN_VALUE).stream()
        .map(FigureHistory.Sample::at).toList());
    assertEquals(List.of(14_000L), history.since(12_000).stream().map(FigureHistory.Sample::at).toList());
    assertEquals(List.of(), history.since(14_000));
    assertEquals(7, history.latest().connections());
  }
}
