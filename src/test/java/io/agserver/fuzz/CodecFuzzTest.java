package io.agserver.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import io.agserver.codec.JsNumbers;
import io.agserver.codec.JsonCodec;

/**
 * The codec against any input (bench/fuzz fuzzes these; the build runs the committed corpus,
 * .cifuzz-corpus, and every finding, src/test/resources/.../CodecFuzzTestInputs, as regression
 * tests). Whatever a client sends, decode gives a value or the text back (as sc-formatter hands on
 * what is not JSON) and never throws; what the server encodes reads back as the same value; numbers
 * and strings are written in the forms JavaScript writes them.
 */
class CodecFuzzTest {

  private static final JsonCodec CODEC = JsonCodec.instance();
  /** Number.prototype.toString's output for a finite number: no ".0", an exponent only as e+N / e-N. */
  private static final Pattern JS_NUMBER = Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]*[1-9])?(e[+-][1-9][0-9]*)?");

  /** Any text from a client: decode never throws, and what it gives encodes and reads back the same. */
  @FuzzTest
  void decode(String message) {
    if (message == null) {
      return;
    }
    Object value = CODEC.decode(message);
    if (value instanceof String text && text.equals(message)) {
      return;
    }
    // JSON.parse reads 1e999 as Infinity, which JSON.stringify writes as null: the first round
    // trip may turn a number into null, as it does in node; after it the value is a fixed point.
    Object once = CODEC.decode(CODEC.encode(value));
    String encoded = CODEC.encode(once);
    assertEquals(once, CODEC.decode(encoded), encoded);
  }

  /** Any value the server sends (a tree of maps, lists, strings, numbers): what it writes reads back the same. */
  @FuzzTest
  void encode(FuzzedDataProvider data) {
    Object value = value(data, 0);
    if ("#1".equals(value) || "#2".equals(value)) {
      return;
    }
    String encoded = CODEC.encode(value);
    // Strict: the server never writes text a client's JSON.parse would refuse. The first read may
    // round a long beyond 2^53 as JSON.parse does; from then on the value is a fixed point.
    Object read = CODEC.parse(encoded);
    assertEquals(read, CODEC.parse(CODEC.encode(read)), encoded);
  }

  /** Strict JSON text: parse, encode, parse again gives the same value. */
  @FuzzTest
  void roundTrip(String json) {
    if (json == null) {
      return;
    }
    Object value;
    try {
      value = CODEC.parse(json);
    } catch (IllegalArgumentException notJson) {
      return;
    }
    if ("#1".equals(value) || "#2".equals(value)) {
      return;  // the strings #1 and #2 alone are a ping and a pong, written as they are
    }
    // As in decode: 1e999 reads as Infinity and writes as null, once.
    Object once = CODEC.parse(CODEC.encode(value));
    assertEquals(once, CODEC.parse(CODEC.encode(once)), json);
  }

  /** A double is written as Number.prototype.toString writes it, and reads back exactly. */
  @FuzzTest
  void numbers(double value) {
    String text = CODEC.encode(value);
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      assertEquals("null", text, "JSON.stringify writes a non-finite number as null");
      return;
    }
    assertEquals(JsNumbers.toString(value), text);
    assertTrue(JS_NUMBER.matcher(text).matches(), text);
    double back = ((Number) CODEC.parse(text)).doubleValue();
    assertEquals(value == 0 ? 0.0 : value, back == 0 ? 0.0 : back, text);
    double magnitude = Math.abs(value);
    assertEquals(magnitude != 0 && (magnitude >= 1e21 || magnitude < 1e-6), text.contains("e"),
        () -> text + ": JavaScript switches to an exponent at 1e21 and below 1e-6");
  }

  /** Any string, lone surrogates and control characters included, reads back as itself. */
  @FuzzTest
  void strings(String text) {
    if (text == null || text.equals("#1") || text.equals("#2")) {
      // A message that is exactly #1 or #2 is a ping or pong, written as it is (sc-formatter).
      return;
    }
    String encoded = CODEC.encode(text);
    assertEquals(text, CODEC.parse(encoded), encoded);
    for (int i = 0; i < encoded.length(); i++) {
      char c = encoded.charAt(i);
      assertTrue(c >= 0x20 && !Character.isSurrogate(c) || Character.isHighSurrogate(c) && i + 1 < encoded.length()
          && Character.isLowSurrogate(encoded.charAt(i + 1)) || Character.isLowSurrogate(c) && i > 0
          && Character.isHighSurrogate(encoded.charAt(i - 1)),
          () -> "JSON.stringify escapes control characters and lone surrogates: " + encoded);
    }
  }

  private static Object value(FuzzedDataProvider data, int depth) {
    int kind = data.consumeInt(0, depth > 6 ? 6 : 8);
    switch (kind) {
      case 0: return null;
      case 1: return data.consumeBoolean();
      case 2: return data.consumeInt();
      case 3: return data.consumeLong();
      case 4: return data.consumeDouble();
      case 5: return data.consumeString(40);
      case 6: return data.consumeRegularDouble();
      case 7: {
        List<Object> list = new ArrayList<>();
        int n = data.consumeInt(0, 5);
        for (int i = 0; i < n; i++) {
          list.add(value(data, depth + 1));
        }
        return list;
      }
      default: {
        Map<String, Object> map = new LinkedHashMap<>();
        int n = data.consumeInt(0, 5);
        for (int i = 0; i < n; i++) {
          map.put(data.consumeString(12), value(data, depth + 1));
        }
        return map;
      }
    }
  }
}
