package io.agserver.ops;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * What a logger writes, FINE included, while open: for tests of what an operator's log shows.
 * Closing puts the logger's level back and detaches.
 */
public final class LogCapture implements AutoCloseable {

  private final Logger logger;
  private final Level level;
  private final List<LogRecord> records = new CopyOnWriteArrayList<>();
  private final Handler handler = new Handler() {
    @Override
    public void publish(LogRecord record) {
      records.add(record);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  private LogCapture(Logger logger) {
    this.logger = logger;
    this.level = logger.getLevel();
    logger.setLevel(Level.FINE);
    logger.addHandler(handler);
  }

  /** Captures the logger named after {@code owner}. */
  public static LogCapture of(Class<?> owner) {
    return new LogCapture(Logger.getLogger(owner.getName()));
  }

  public List<LogRecord> records() {
    return records;
  }

  /** The messages logged at {@code wanted}, in order. */
  public List<String> messages(Level wanted) {
    return records.stream().filter(r -> r.getLevel() == wanted).map(LogRecord::getMessage).toList();
  }

  @Override
  public void close() {
    logger.removeHandler(handler);
    logger.setLevel(level);
  }
}
