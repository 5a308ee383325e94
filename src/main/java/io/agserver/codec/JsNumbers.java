package io.agserver.codec;

import com.fasterxml.jackson.core.io.NumberOutput;
import java.math.BigDecimal;

/**
 * Formats numbers as JavaScript's {@code Number.prototype.toString} does, which is what
 * JSON.stringify writes for finite numbers.
 *
 * <p>The digits come from Jackson's Schubfach writer (shortest round-trip, nearest to the value),
 * because JDK 17's {@code Double.toString} sometimes emits more digits than needed. Only the layout
 * differs from Java's and is redone here.
 */
public final class JsNumbers {

  private static final double MAX_SAFE_INTEGER = 9007199254740992d;

  private JsNumbers() {
  }

  public static String toString(double value) {
    if (Double.isNaN(value)) {
      return "NaN";
    }
    if (Double.isInfinite(value)) {
      return value > 0 ? "Infinity" : "-Infinity";
    }
    // Every integer up to 2^53 is exact, so its digits are its shortest form (and -0 prints as 0).
    if (Math.abs(value) <= MAX_SAFE_INTEGER && value == Math.rint(value)) {
      return Long.toString((long) value);
    }
    Decimal decimal = Decimal.parse(NumberOutput.toString(value, true));
    if (decimal.digits.length() == 2 && Math.abs(value) < Double.MIN_NORMAL) {
      decimal = decimal.shortenSubnormal(value);
    }
    return decimal.toJs();
  }

  /**
   * Floats keep their own shortest digits (0.1f gives "0.1"), which is what a Java author means,
   * although JS would see the widened double 0.10000000149011612.
   */
  public static String toString(float value) {
    if (Float.isNaN(value) || Float.isInfinite(value)) {
      return toString((double) value);
    }
    if (Math.abs(value) <= 16777216f && value == Math.rint(value)) {
      return Long.toString((long) value);
    }
    return Decimal.parse(NumberOutput.toString(value, true)).toJs();
  }

  /** A finite non-zero value as {@code 0.digits × 10^exponent}, with {@code digits} trimmed. */
  private static final class Decimal {
    final boolean negative;
    final String digits;
    final int exponent;

    private Decimal(boolean negative, String digits, int exponent) {
      this.negative = negative;
      this.digits = digits;
      this.exponent = exponent;
    }

    /** Parses Java's forms: "123.45", "1.0E-5", "-1.2345E21". */
    static Decimal parse(String java) {
      boolean negative = java.charAt(0) == '-';
      int start = negative ? 1 : 0;
      int e = java.indexOf('E');
      int end = e < 0 ? java.length() : e;
      int pow = e < 0 ? 0 : Integer.parseInt(java.substring(e + 1));
      StringBuilder digits = new StringBuilder(end - start);
      int pointAt = end - start;
      for (int i = start; i < end; i++) {
        char c = java.charAt(i);
        if (c == '.') {
          pointAt = i - start;
        } else {
          digits.append(c);
        }
      }
      int leading = 0;
      while (leading < digits.length() - 1 && digits.charAt(leading) == '0') {
        leading++;
      }
      int last = digits.length();
      while (last > leading + 1 && digits.charAt(last - 1) == '0') {
        last--;
      }
      return new Decimal(negative, digits.substring(leading, last), pointAt - leading + pow);
    }

    /**
     * Java prefers a closer 2-digit decimal over a 1-digit one that also round-trips ("4.9E-324");
     * JS takes the shortest ("5e-324"). That only happens where precision is tiny: subnormals.
     */
    Decimal shortenSubnormal(double value) {
      int first = digits.charAt(0) - '0';
      Decimal down = new Decimal(negative, String.valueOf(first), exponent);
      Decimal up = first == 9
          ? new Decimal(negative, "1", exponent + 1)
          : new Decimal(negative, String.valueOf(first + 1), exponent);
      boolean downRoundTrips = Double.parseDouble(down.toJava()) == value;
      boolean upRoundTrips = Double.parseDouble(up.toJava()) == value;
      if (downRoundTrips && upRoundTrips) {
        // Number#toString takes the one nearer the exact value, the even one on a tie.
        BigDecimal exact = new BigDecimal(value);
        int cmp = exact.subtract(down.toBigDecimal()).abs()
            .compareTo(up.toBigDecimal().subtract(exact).abs());
        if (cmp != 0) {
          return cmp < 0 ? down : up;
        }
        return (down.digits.charAt(0) - '0') % 2 == 0 ? down : up;
      }
      return downRoundTrips ? down : upRoundTrips ? up : this;
    }

    private String toJava() {
      return (negative ? "-0." : "0.") + digits + "E" + exponent;
    }

    private BigDecimal toBigDecimal() {
      return new BigDecimal(toJava());
    }

    /** The layout of ECMAScript Number::toString. */
    String toJs() {
      int k = digits.length();
      int n = exponent;
      StringBuilder out = new StringBuilder(k + 8);
      if (negative) {
        out.append('-');
      }
      if (k <= n && n <= 21) {
        out.append(digits);
        for (int i = k; i < n; i++) {
          out.append('0');
        }
      } else if (0 < n && n <= 21) {
        out.append(digits, 0, n).append('.').append(digits, n, k);
      } else if (-6 < n && n <= 0) {
        out.append("0.");
        for (int i = n; i < 0; i++) {
          out.append('0');
        }
        out.append(digits);
      } else {
        out.append(digits.charAt(0));
        if (k > 1) {
          out.append('.').append(digits, 1, k);
        }
        int e = n - 1;
        out.append('e').append(e < 0 ? '-' : '+').append(Math.abs(e));
      }
      return out.toString();
    }
  }
}
