package io.agserver.ops.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.agserver.ops.LogCapture;

/** Wrong admin passwords per address, on a clock the test moves; what the log says of them. */
class LoginThrottleTest {

  private final AtomicLong now = new AtomicLong(1_000_000);
  private final LoginThrottle throttle = new LoginThrottle(now::get);
  private LogCapture capture;
  private List<LogRecord> records;

  @BeforeEach
  void record() {
    capture = LogCapture.of(LoginThrottle.class);
    records = capture.records();
  }

  @AfterEach
  void stopRecording() {
    capture.close();
  }

  private List<String> at(Level wanted) {
    return records.stream().filter(r -> r.getLevel() == wanted).map(LogRecord::getMessage).toList();
  }

  @Test
  void fiveWrongPasswordsWithinAMinuteBlockTheAddressForAMinute() {
    for (int i = 0; i < LoginThrottle.FAILURES - 1; i++) {
      throttle.failed("a", "ops");
      now.addAndGet(1000);
    }
    assertEquals(0, throttle.blockedFor("a"));
    throttle.failed("a", "ops");
    assertEquals(LoginThrottle.BLOCK_MS, throttle.blockedFor("a"));
    assertEquals(0, throttle.blockedFor("b"));
    now.addAndGet(LoginThrottle.BLOCK_MS - 1);
    assertEquals(1, throttle.blockedFor("a"));
    now.addAndGet(1);
    assertEquals(0, throttle.blockedFor("a"));
    // A blocked address starts from nothing again.
    throttle.failed("a", "ops");
    assertEquals(0, throttle.blockedFor("a"));
  }

  @Test
  void failuresFurtherApartThanTheWindowStartTheCountAgainButTheRightPasswordDoesNot() {
    for (int i = 0; i < 10; i++) {
      throttle.failed("slow", "ops");
      now.addAndGet(LoginThrottle.WINDOW_MS / 4 + 1);
      if (i % 4 == 3) {
        now.addAndGet(LoginThrottle.WINDOW_MS);
      }
    }
    assertEquals(0, throttle.blockedFor("slow"));
    for (int i = 0; i < 4; i++) {
      throttle.failed("forgetful", "ops");
    }
    // An operator's open page passes the gate every second from the same address (a shared NAT):
    // that must not wipe a guesser's count.
    throttle.failed("forgetful", "ops");
    assertTrue(throttle.blockedFor("forgetful") > 0);
  }

  @Test
  void theTableOfAddressesIsBounded() {
    for (int i = 0; i < LoginThrottle.MAX_ADDRESSES + 50; i++) {
      throttle.failed("10.0." + (i / 256) + "." + (i % 256), "x");
    }
    assertEquals(LoginThrottle.MAX_ADDRESSES, throttle.addresses());
  }

  @Test
  void eachRefusalIsLoggedAtFineAndAWarningCountsThemAtMostOnceAMinute() {
    throttle.failed("192.0.2.1", "op\nerator");
    assertEquals(List.of("agserver admin: wrong password from 192.0.2.1 (user 'op?erator')"), at(Level.FINE));
    // The first one is told at once.
    assertEquals(List.of("agserver admin: 1 wrong password for the admin page. Each is logged at FINE on "
        + LoginThrottle.class.getName() + "; the next summary comes a minute from now at the earliest."),
        at(Level.WARNING));
    for (int i = 0; i < LoginThrottle.FAILURES; i++) {
      now.addAndGet(1000);
      throttle.failed("192.0.2.2", "x");
    }
    throttle.blockedFor("192.0.2.2");
    throttle.blockedFor("192.0.2.2");
    assertEquals(1, at(Level.WARNING).size(), "quiet for a minute");
    assertEquals(1 + LoginThrottle.FAILURES + 2, at(Level.FINE).size());
    assertTrue(at(Level.FINE).get(LoginThrottle.FAILURES).endsWith("the address is blocked for 60000 ms"),
        at(Level.FINE).toString());
    // The sampler's turn after the quiet minute tells the rest, without another refusal.
    throttle.summarize();
    assertEquals(1, at(Level.WARNING).size());
    now.addAndGet(LoginThrottle.WARNING_INTERVAL);
    throttle.summarize();
    assertEquals("agserver admin: 5 wrong passwords for the admin page in the last 65 s; 1 addresses blocked for 60 s"
        + " after 5 in a minute; 2 requests refused while blocked (429). Each is logged at FINE on "
        + LoginThrottle.class.getName() + "; the next summary comes a minute from now at the earliest.",
        at(Level.WARNING).get(1));
    // Nothing more to tell: no warning.
    now.addAndGet(LoginThrottle.WARNING_INTERVAL);
    throttle.summarize();
    assertEquals(2, at(Level.WARNING).size());
  }
}
