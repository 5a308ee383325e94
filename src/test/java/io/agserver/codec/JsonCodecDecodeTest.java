package io.agserver.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Expected values are what sc-formatter's decode gives in node (then JSON.stringify for text). */
class JsonCodecDecodeTest {

  private final JsonCodec codec = JsonCodec.instance();

  private String reencoded(String message) {
    return codec.encode(codec.decode(message));
  }

  @Test
  void pingAndPongAreReturnedAsTheyAre() {
    assertEquals("#1", codec.decode("#1"));
    assertEquals("#2", codec.decode("#2"));
    assertNull(codec.decode((String) null));
    assertNull(codec.decode((ByteBuffer) null));
  }

  @Test
  void leadingJsonWhitespaceIsAllowed() {
    assertEquals(Map.of("a", 1), codec.decode(" {\"a\":1}"));
    assertEquals(List.of(1), codec.decode("\n\t\r[1]"));
    assertEquals(Map.of("a", 1), codec.decode("{\"a\":1}   \n"));
  }

  /** Each of these is returned unchanged by sc-formatter's decode in node. */
  @ParameterizedTest
  @ValueSource(strings = {"", "\f{\"a\":1}", "x{}", "{bad", "[1] [2]", "[1,]", "\uFEFF{}", "\"str\"", "42",
      "{\"a\":01}", "{\"a\":.5}", "{\"a\":1.}", "{\"a\":+1}", "{\"a\":NaN}", "{\"a\":\"\t\"}",
      "{\"a\":\"\\x\"}", "{a:1}", "{\"a\":1}/*c*/", "{'a':1}", "{\"a\":1}x", "[\"\\u00e\"]",
      "{\"a\":tru}", "[1,2", "{\"a\":1}\u00a0", "#3", "{", "["})
  void nonJsonComesBackAsTheMessage(String message) {
    assertSame(message, codec.decode(message));
  }

  @Test
  void objectsAreOrderedMapsAndArraysAreLists() {
    Object packet = codec.decode(
        "{\"event\":\"#publish\",\"data\":{\"channel\":\"c\",\"data\":[1,{\"x\":null,\"y\":true,\"z\":false}]},\"cid\":3}");
    Map<?, ?> map = assertInstanceOf(LinkedHashMap.class, packet);
    assertEquals(List.of("event", "data", "cid"), List.copyOf(map.keySet()));
    assertEquals("#publish", map.get("event"));
    assertEquals(3, map.get("cid"));
    Map<?, ?> data = (Map<?, ?>) map.get("data");
    List<?> inner = assertInstanceOf(java.util.ArrayList.class, data.get("data"));
    Map<String, Object> last = new LinkedHashMap<>();
    last.put("x", null);
    last.put("y", true);
    last.put("z", false);
    assertEquals(Arrays.asList(1, last), inner);
    assertEquals("{\"event\":\"#publish\",\"data\":{\"channel\":\"c\",\"data\":[1,{\"x\":null,\"y\":true,\"z\":false}]},\"cid\":3}",
        codec.encode(packet));
  }

  @Test
  void duplicateKeysKeepTheLastValueAtTheFirstPosition() {
    assertEquals("{\"a\":2,\"b\":3}", reencoded("{\"a\":1,\"b\":3,\"a\":2}"));
  }

  @Test
  void arrayIndexKeysComeFirstAsInAJsObject() {
    // node: JSON.stringify(JSON.parse('{"b":1,"2":2,"1":3,"01":4,"4294967295":5,"4294967294":6,"-1":7}'))
    assertEquals("{\"1\":3,\"2\":2,\"4294967294\":6,\"b\":1,\"01\":4,\"4294967295\":5,\"-1\":7}",
        reencoded("{\"b\":1,\"2\":2,\"1\":3,\"01\":4,\"4294967295\":5,\"4294967294\":6,\"-1\":7}"));
  }

  @Test
  void numbersAreWhatJsHolds() {
    List<?> numbers = (List<?>) codec.decode(
        "[1, 1.0, 1e2, -0, -0.0, 2147483647, 2147483648, -2147483649, 9007199254740993, 0.5, 1e21, 1e400]");
    assertEquals(Arrays.asList(1, 1, 100, 0, 0, 2147483647, 2147483648L, -2147483649L,
        9007199254740992L, 0.5, 1e21, Double.POSITIVE_INFINITY), numbers);
    assertInstanceOf(Integer.class, numbers.get(1));
    assertInstanceOf(Long.class, numbers.get(6));
    assertInstanceOf(Double.class, numbers.get(10));
  }

  @Test
  void reencodedNumbersMatchNode() {
    // node: f.encode(f.decode(x)) for the same text.
    assertEquals("[1,1e+21,123456789012345680000,100,0,0.1,1.5e-7,9007199254740992,1152921504606847000,5e-324,null,100000,1.23e-18]",
        reencoded("[1.0,1e21,123456789012345678901,1e2,-0,0.1,1.5e-7,9007199254740993,1152921504606846976,5e-324,1e400,1E5,123e-20]"));
    assertEquals("[-9223372036854776000,9223372036854776000,2147483647,2147483648,-2147483648,-2147483649,9007199254740992,9007199254740992,-9007199254740992,1e-7,1,0,1.2345678901234568e+28,null]",
        reencoded("[-9223372036854775808, 9223372036854775807, 2147483647, 2147483648, -2147483648, -2147483649, 9007199254740992, 9007199254740993, -9007199254740993, 1e-7, 0.1e1, -0.0, 12345678901234567890123456789, 1.7976931348623157e309]"));
    assertEquals("[null]", reencoded("[1" + "0".repeat(400) + "]"));
  }

  @Test
  void unicodeAndEscapesDecodeLikeJsonParse() {
    Map<?, ?> map = (Map<?, ?>) codec.decode(
        "{\"s\":\"h\u00e9llo \\u00e9 \uD83D\uDE00 \\ud83d\\ude00 \\ud800 \\u2028\",\"t\":\"\\/\"}");
    assertEquals("h\u00e9llo \u00e9 \uD83D\uDE00 \uD83D\uDE00 \uD800 \u2028", map.get("s"));
    assertEquals("/", map.get("t"));
    // node writes the lone surrogate escaped and U+2028 raw.
    assertEquals("{\"s\":\"h\u00e9llo \u00e9 \uD83D\uDE00 \uD83D\uDE00 \\ud800 \u2028\",\"t\":\"/\"}",
        codec.encode(map));
  }

  @Test
  void arraysAreBatches() {
    Object batch = codec.decode("[{\"event\":\"a\",\"cid\":1},{\"event\":\"b\",\"cid\":2}]");
    assertEquals(List.of(Map.of("event", "a", "cid", 1), Map.of("event", "b", "cid", 2)), batch);
  }

  @Test
  void binaryFramesAreDecodedAsUtf8Text() {
    byte[] bytes = "{\"event\":\"\u00e9\",\"cid\":1}".getBytes(StandardCharsets.UTF_8);
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    assertEquals(Map.of("event", "\u00e9", "cid", 1), codec.decode(buffer));
    assertEquals(0, buffer.position(), "the frame is not consumed");
    assertEquals("#1", codec.decode(ByteBuffer.wrap("#1".getBytes(StandardCharsets.US_ASCII))));

    ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length + 2);
    direct.put((byte) 'x').put(bytes).flip().position(1);
    direct.limit(1 + bytes.length);
    assertEquals(Map.of("event", "\u00e9", "cid", 1), codec.decode(direct));

    ByteBuffer slice = ByteBuffer.wrap(("xx" + "[7]").getBytes(StandardCharsets.US_ASCII), 2, 3).slice();
    assertEquals(List.of(7), codec.decode(slice));
  }

  @Test
  void invalidUtf8IsReplacedAsNodeDoes() {
    // node: Buffer.from([...]).toString() replaces each maximal invalid subpart with U+FFFD.
    byte[] bytes = {(byte) 0xE2, (byte) 0x82, 0x41, (byte) 0xED, (byte) 0xA0, (byte) 0x80, 0x42,
        (byte) 0xF0, (byte) 0x9F, (byte) 0x98, 0x43, (byte) 0xC0, (byte) 0xAF, (byte) 0xFF, 0x44,
        (byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80, (byte) 0xE2};
    assertEquals("\uFFFDA\uFFFD\uFFFD\uFFFDB\uFFFDC\uFFFD\uFFFD\uFFFDD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD",
        codec.decode(ByteBuffer.wrap(bytes)));
    byte[] valid = "[\"\uFFFD\uD83D\uDE00\"]".getBytes(StandardCharsets.UTF_8);
    assertEquals(List.of("\uFFFD\uD83D\uDE00"), codec.decode(ByteBuffer.wrap(valid)));
  }

  @Test
  void nestingUpToJacksonsLimitIsDecoded() {
    String deep = "[".repeat(1000) + "]".repeat(1000);
    assertInstanceOf(List.class, codec.decode(deep));
    // JSON.parse would accept this; the Java codec hands it on as text (documented limit).
    String deeper = "[".repeat(1001) + "]".repeat(1001);
    assertSame(deeper, codec.decode(deeper));
  }
}
