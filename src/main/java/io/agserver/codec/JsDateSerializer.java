package io.agserver.codec;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Date;

/**
 * Writes points in time as a JS Date's toJSON does ("2023-11-14T22:13:20.123Z"), so a JS peer
 * sees what a JS server would send for a Date: millisecond precision, UTC, and null outside the
 * range a Date can hold.
 */
final class JsDateSerializer extends StdSerializer<Object> {

  private static final long serialVersionUID = 1L;
  /** ECMAScript's time value limit, 8.64e15 ms either side of the epoch. */
  private static final long MAX_TIME_VALUE = 8_640_000_000_000_000L;

  JsDateSerializer() {
    super(Object.class);
  }

  @Override
  public void serialize(Object value, JsonGenerator generator, SerializerProvider provider)
      throws IOException {
    String iso = toJson(epochMillis(value));
    if (iso == null) {
      generator.writeNull();
    } else {
      generator.writeString(iso);
    }
  }

  private static Long epochMillis(Object value) {
    if (value instanceof Date) {
      return ((Date) value).getTime();
    }
    Instant instant;
    if (value instanceof OffsetDateTime) {
      instant = ((OffsetDateTime) value).toInstant();
    } else if (value instanceof ZonedDateTime) {
      instant = ((ZonedDateTime) value).toInstant();
    } else {
      instant = (Instant) value;
    }
    try {
      return instant.toEpochMilli();
    } catch (ArithmeticException outOfRange) {
      return null;
    }
  }

  /** Date.prototype.toJSON: toISOString, or null for an invalid date. */
  static String toJson(Long millis) {
    if (millis == null || Math.abs(millis) > MAX_TIME_VALUE) {
      return null;
    }
    LocalDateTime t = LocalDateTime.ofEpochSecond(
        Math.floorDiv(millis, 1000L), (int) Math.floorMod(millis, 1000L) * 1_000_000, ZoneOffset.UTC);
    int year = t.getYear();
    StringBuilder out = new StringBuilder(27);
    if (year >= 0 && year <= 9999) {
      pad(out, year, 4);
    } else {
      out.append(year < 0 ? '-' : '+');
      pad(out, Math.abs(year), 6);
    }
    out.append('-');
    pad(out, t.getMonthValue(), 2);
    out.append('-');
    pad(out, t.getDayOfMonth(), 2);
    out.append('T');
    pad(out, t.getHour(), 2);
    out.append(':');
    pad(out, t.getMinute(), 2);
    out.append(':');
    pad(out, t.getSecond(), 2);
    out.append('.');
    pad(out, t.getNano() / 1_000_000, 3);
    return out.append('Z').toString();
  }

  private static void pad(StringBuilder out, int value, int width) {
    String digits = Integer.toString(value);
    for (int i = digits.length(); i < width; i++) {
      out.append('0');
    }
    out.append(digits);
  }
}
