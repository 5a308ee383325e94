package io.agserver.auth;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Timespans in the notation of the {@code ms} package, which jsonwebtoken uses for string
 * {@code expiresIn} values: a number and an optional unit ("90s", "2 hours", "1.5d", "-1h"); no
 * unit means milliseconds, a year is 365.25 days.
 */
public final class Timespan {

  private static final Pattern FORMAT = Pattern.compile(
      "^(-?(?:\\d+)?\\.?\\d+) *(milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h"
          + "|days?|d|weeks?|w|years?|yrs?|y)?$",
      Pattern.CASE_INSENSITIVE);

  private Timespan() {
  }

  /** The timespan as a Duration (millisecond precision). */
  public static Duration parse(String text) {
    Matcher match = text == null || text.length() > 100 ? null : FORMAT.matcher(text);
    if (match == null || !match.matches()) {
      throw new IllegalArgumentException(
          "\"expiresIn\" should be a number of seconds or string representing a timespan eg: \"1d\", \"20h\", 60");
    }
    double n = Double.parseDouble(match.group(1));
    String unit = match.group(2) == null ? "ms" : match.group(2).toLowerCase(Locale.ROOT);
    double millis = n * switch (unit.charAt(0)) {
      case 'y' -> 31_557_600_000d;
      case 'w' -> 604_800_000d;
      case 'd' -> 86_400_000d;
      case 'h' -> 3_600_000d;
      case 's' -> 1_000d;
      default -> unit.startsWith("mi") && !unit.startsWith("mil") || unit.equals("m") ? 60_000d : 1d;
    };
    return Duration.ofMillis((long) millis);
  }
}
