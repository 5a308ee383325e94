package io.agserver;

import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when a test moves it; it starts at the real time. */
final class TestClock implements InstantSource {

  private final AtomicLong millis = new AtomicLong(System.currentTimeMillis());

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis.get());
  }

  @Override
  public long millis() {
    return millis.get();
  }

  void set(long value) {
    millis.set(value);
  }

  void advance(long delta) {
    millis.addAndGet(delta);
  }
}
