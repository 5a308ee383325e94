package io.agserver.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import io.agserver.protocol.AGError;

/** Expected texts are what sc-formatter's encode gives in node for the JS equivalent. */
class JsonCodecEncodeTest {

  private final JsonCodec codec = JsonCodec.instance();

  @Test
  void pingPongStayBareOtherStringsAreJson() {
    assertEquals("#1", codec.encode("#1"));
    assertEquals("#2", codec.encode("#2"));
    assertEquals("\"#3\"", codec.encode("#3"));
    assertEquals("\"plain\"", codec.encode("plain"));
    assertEquals("null", codec.encode(null));
    assertEquals("true", codec.encode(true));
    assertEquals("42", codec.encode(42));
  }

  @Test
  void binaryIsSentAsBase64LikeABuffer() {
    // node: f.encode(Buffer.from([...]))
    assertEquals("{\"base64\":true,\"data\":\"AQID/w==\"}", codec.encode(new byte[] {1, 2, 3, (byte) 255}));
    assertEquals("{\"base64\":true,\"data\":\"\"}", codec.encode(new byte[0]));
    assertEquals("{\"base64\":true,\"data\":\"AA==\"}", codec.encode(new byte[] {0}));
    assertEquals("{\"base64\":true,\"data\":\"AAE=\"}", codec.encode(new byte[] {0, 1}));
    assertEquals("{\"b\":{\"base64\":true,\"data\":\"aGVsbG8=\"}}",
        codec.encode(Map.of("b", "hello".getBytes(StandardCharsets.US_ASCII))));
    ByteBuffer buffer = ByteBuffer.wrap("xhello worldx".getBytes(StandardCharsets.US_ASCII), 1, 11);
    assertEquals("{\"base64\":true,\"data\":\"aGVsbG8gd29ybGQ=\"}", codec.encode(buffer));
    assertEquals(1, buffer.position(), "the buffer is not consumed");
    ByteBuffer direct = ByteBuffer.allocateDirect(2).put(new byte[] {0, 1}).flip();
    assertEquals("{\"base64\":true,\"data\":\"AAE=\"}", codec.encode(direct));
  }

  @Test
  void numbersAreWrittenAsJsonStringifyWritesThem() {
    List<Object> values = Arrays.asList(Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
        1.0, -0.0, 1e21, 1.5e-7, 123456789012345680000.0, 0.1 + 0.2, Double.MIN_VALUE, Double.MAX_VALUE,
        1e-7, 1e-6, 0.000001234, 123.456, -1e-7, 9007199254740992.0, 9007199254740994.0,
        18446744073709551616.0, 1e20, 100.0, 1e300, 4.35, 0.5);
    // node: JSON.stringify([NaN, Infinity, -Infinity, 1.0, -0, 1e21, ...])
    assertEquals("[null,null,null,1,0,1e+21,1.5e-7,123456789012345680000,0.30000000000000004,5e-324,"
        + "1.7976931348623157e+308,1e-7,0.000001,0.000001234,123.456,-1e-7,9007199254740992,"
        + "9007199254740994,18446744073709552000,100000000000000000000,100,1e+300,4.35,0.5]",
        codec.encode(values));
  }

  @Test
  void primitiveArraysAndOtherNumberTypesFollowTheSameRules() {
    assertEquals("[1,null,1e+21]", codec.encode(new double[] {1.0, Double.NaN, 1e21}));
    assertEquals("[0.1,2,null]", codec.encode(new float[] {0.1f, 2f, Float.NaN}));
    assertEquals("[1,2]", codec.encode(new int[] {1, 2}));
    assertEquals("[9223372036854775807]", codec.encode(new long[] {Long.MAX_VALUE}));
    assertEquals("[1.5,100000000000000000000,1e+21]",
        codec.encode(List.of(new BigDecimal("1.50"), new BigInteger("100000000000000000000"),
            new BigDecimal("1E+21"))));
  }

  @Test
  void stringsAreEscapedAsJsonStringifyEscapesThem() {
    List<String> values = List.of("\uD800", "a\uDFFFb", "\uD83D\uDE00", "\uD83D", "\uDE00\uD83D",
        "\u0000\u0001\b\t\n\u000b\f\r\u000e\u001f \"\\/", "\u2028\u2029\u007f\u0080\u00e9\u4e2d");
    // node: JSON.stringify(['\ud800', 'a\udfffb', ...])
    assertEquals("[\"\\ud800\",\"a\\udfffb\",\"\uD83D\uDE00\",\"\\ud83d\",\"\\ude00\\ud83d\","
        + "\"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u000e\\u001f \\\"\\\\/\","
        + "\"\u2028\u2029\u007f\u0080\u00e9\u4e2d\"]", codec.encode(values));
    assertEquals("{\"k\\ud800\":1}", codec.encode(Map.of("k\uD800", 1)));
    assertEquals("\"\\ud800\\\"\"", codec.encode(new char[] {'\uD800', '"'}));
    assertEquals("\"x\\udbff\"", codec.encode(new StringBuilder("x\uDBFF")));
  }

  @Test
  void stringsAreEscapedTheSameWhenWrittenAsBytes() throws Exception {
    byte[] bytes = codec.mapper().writeValueAsBytes(List.of("\uD800\u001f\u00e9"));
    assertEquals("[\"\\ud800\\u001f\u00e9\"]", new String(bytes, StandardCharsets.UTF_8));
  }

  @Test
  void nullValuesAreKept() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("a", null);
    map.put("b", Arrays.asList((Object) null));
    map.put(null, 1);
    assertEquals("{\"a\":null,\"b\":[null],\"null\":1}", codec.encode(map));
  }

  @Test
  void optionalsAreTheirContentOrNull() {
    assertEquals("{\"o\":null,\"p\":5}",
        codec.encode(orderedOf("o", Optional.empty(), "p", Optional.of(5))));
  }

  private static Map<String, Object> orderedOf(String k1, Object v1, String k2, Object v2) {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put(k1, v1);
    map.put(k2, v2);
    return map;
  }

  record Packet(String event, Object data, Integer cid) {
  }

  record Auth(String token, double expiresIn, byte[] key) {
  }

  static final class Empty {
  }

  static final class Bean {
    public String getName() {
      return "n";
    }

    public double getRatio() {
      return 2.0;
    }
  }

  @Test
  void recordsBeansAndEmptyBeansAreObjects() {
    assertEquals("{\"event\":\"#publish\",\"data\":{\"channel\":\"c\"},\"cid\":1}",
        codec.encode(new Packet("#publish", Map.of("channel", "c"), 1)));
    assertEquals("{\"event\":\"e\",\"data\":null,\"cid\":null}", codec.encode(new Packet("e", null, null)));
    assertEquals("{}", codec.encode(new Empty()));
    assertEquals("{\"name\":\"n\",\"ratio\":2}", codec.encode(new Bean()));
  }

  @Test
  void datesAreWrittenAsDateToJson() {
    // node: JSON.stringify(new Date(t)) for these t.
    assertEquals("\"2023-11-14T22:13:20.123Z\"", codec.encode(new Date(1700000000123L)));
    assertEquals("\"2023-11-14T22:13:20.123Z\"", codec.encode(Instant.ofEpochMilli(1700000000123L).plusNanos(999)));
    assertEquals("\"1969-12-31T23:59:59.999Z\"", codec.encode(new Date(-1)));
    assertEquals("\"-000001-01-01T00:00:00.000Z\"", codec.encode(new Date(-62198755200000L)));
    assertEquals("\"-000002-12-31T23:59:59.999Z\"", codec.encode(new Date(-62198755200001L)));
    assertEquals("\"+010000-01-01T00:00:00.000Z\"", codec.encode(new Date(253402300800000L)));
    assertEquals("\"+275760-09-13T00:00:00.000Z\"", codec.encode(new Date(8640000000000000L)));
    assertEquals("null", codec.encode(new Date(8640000000000001L)));
    assertEquals("null", codec.encode(Instant.MAX));
    assertEquals("\"2023-11-14T22:13:20.123Z\"",
        codec.encode(OffsetDateTime.ofInstant(Instant.ofEpochMilli(1700000000123L), ZoneOffset.ofHours(5))));
    assertEquals("[\"2024-02-29\",\"PT1M\"]", codec.encode(List.of(LocalDate.of(2024, 2, 29), Duration.ofMinutes(1))));
  }

  @Test
  void errorsInsidePacketsDoNotLeakStackTraces() {
    assertEquals("{\"error\":{\"message\":\"boom\",\"name\":\"IllegalStateException\"}}",
        codec.encode(Map.of("error", new IllegalStateException("boom"))));
  }

  @Test
  void unencodableValuesThrowATypeError() {
    List<Object> cycle = new ArrayList<>();
    cycle.add(cycle);
    AGError error = assertThrows(AGError.class, () -> codec.encode(cycle));
    assertEquals("TypeError", error.name());
    Map<String, Object> self = new HashMap<>();
    self.put("self", self);
    assertEquals("TypeError", assertThrows(AGError.class, () -> codec.encode(self)).name());
  }

  @Test
  void convertMapsPlainValuesToRecordsAndBack() {
    Packet packet = codec.convert(codec.decode("{\"event\":\"e\",\"data\":[1],\"cid\":7,\"extra\":true}"), Packet.class);
    assertEquals(new Packet("e", List.of(1), 7), packet);
    Map<String, Object> back = codec.convert(packet, new com.fasterxml.jackson.core.type.TypeReference<>() {
    });
    assertEquals(List.of("event", "data", "cid"), List.copyOf(back.keySet()));

    Auth auth = codec.convert(codec.decode(codec.encode(new Auth("t", 1.5, new byte[] {9, 8}))), Auth.class);
    assertEquals("t", auth.token());
    assertEquals(1.5, auth.expiresIn());
    assertArrayEquals(new byte[] {9, 8}, auth.key());
    assertArrayEquals(new byte[] {1, 2}, codec.convert("AQI=", byte[].class));
  }
}
