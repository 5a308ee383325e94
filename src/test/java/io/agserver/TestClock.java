package io.agserver;

import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when a test moves it; it starts at the real time unless told. */
public final class TestClock implements InstantSource {

  private final AtomicLong millis;

  public TestClock() {
    this(System.currentTimeMillis());
  }

  public TestClock(long startMillis) {
    millis = new AtomicLong(startMillis);
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis.get());
  }

  @Override
  public long millis() {
    return millis.get();
  }

  public void set(long value) {
    millis.set(value);
  }

  public void advance(long delta) {
    millis.addAndGet(delta);
  }
}
