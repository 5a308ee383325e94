package io.agserver.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.agserver.protocol.AGError;

class LogSummaryTest {

  private final AtomicLong clock = new AtomicLong(1_000);
  private LogCapture capture;
  private List<LogRecord> records;

  @BeforeEach
  void capture() {
    capture = LogCapture.of(WarningLog.class);
    records = capture.records();
  }

  @AfterEach
  void release() {
    capture.close();
  }

  private List<String> warnings() {
    return records.stream().filter(r -> r.getLevel() == Level.WARNING).map(LogRecord::getMessage).toList();
  }

  @Test
  void theFirstWarningIsToldAtOnceThenAtMostOneSummaryAMinute() {
    WarningLog log = new WarningLog(clock::get);
    log.record(AGError.broker("Lost the connection to redis"));
    assertEquals(1, warnings().size());
    assertTrue(warnings().get(0).contains("BrokerError: 1 (latest: Lost the connection to redis)"), warnings().get(0));

    for (int i = 0; i < 500; i++) {
      log.record(AGError.resourceLimit("Socket " + i + " did not read"));
    }
    log.record(AGError.broker("Publish failed"));
    log.summarize();
    assertEquals(1, warnings().size(), "within the minute: nothing more at WARNING");
    assertEquals(502, records.stream().filter(r -> r.getLevel() == Level.FINE).count(), "each one at FINE");

    clock.addAndGet(LogSummary.INTERVAL);
    log.summarize();
    assertEquals(2, warnings().size());
    String summary = warnings().get(1);
    assertTrue(summary.contains("in the last 60 s"), summary);
    assertTrue(summary.contains("BrokerError: 1 (latest: Publish failed)"), summary);
    assertTrue(summary.contains("ResourceLimitError: 500 (latest: Socket 499 did not read)"), summary);

    clock.addAndGet(LogSummary.INTERVAL);
    log.summarize();
    assertEquals(2, warnings().size(), "nothing counted since: no summary");
  }

  @Test
  void rateLimitRefusalsAreLeftToRefusalsAndClientTextStaysOnOneLine() {
    WarningLog log = new WarningLog(clock::get);
    log.record(AGError.rateLimit("Rate limit exceeded"));
    assertEquals(List.of(), records);
    log.record(new IllegalStateException("line one\nforged line\r" + "x".repeat(500)));
    String line = warnings().get(0);
    assertTrue(line.contains("IllegalStateException: 1 (latest: line one forged line "), line);
    assertTrue(!line.contains("\n") && line.contains("xxx...)"), line);
  }
}
