package io.agserver.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonCodecRoundTripTest {

  private final JsonCodec codec = JsonCodec.instance();

  private static Map<String, Object> map(Object... keysAndValues) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }

  @Test
  void decodedEncodedValuesAreEqual() {
    List<Object> values = Arrays.asList(
        map("event", "#handshake", "data", map("authToken", null), "cid", 1),
        map("rid", 5, "error", map("message", "m", "name", "TimeoutError"), "data", null),
        List.of(map("event", "a", "cid", 1), map("event", "b", "cid", 2)),
        map("n", Arrays.asList(0, -1, 2147483648L, 9007199254740992L, 0.5, -1.5e-7, 1e21, 1e300)),
        map("s", "\u00e9\u4e2d\uD83D\uDE00 \"quoted\" \\ / \n\t \u2028 \u0000 \uD800"),
        map("nested", map("deeper", List.of(List.of(List.of(map("x", true, "y", false)))))),
        List.of(),
        map());
    for (Object value : values) {
      assertEquals(value, codec.decode(codec.encode(value)), () -> codec.encode(value));
    }
  }

  @Test
  void binaryComesBackAsTheBase64Object() {
    Object decoded = codec.decode(codec.encode(map("file", new byte[] {1, 2, 3})));
    assertEquals(map("file", map("base64", true, "data", "AQID")), decoded);
  }

  /** node gives back the same text for JSON.stringify(JSON.parse(x)) of each. */
  @ParameterizedTest
  @ValueSource(strings = {
      "{\"event\":\"#publish\",\"data\":{\"channel\":\"c\",\"data\":[1,{\"x\":null,\"y\":true,\"z\":false}]},\"cid\":3}",
      "[{\"event\":\"a\",\"cid\":1},{\"event\":\"b\",\"cid\":2}]",
      "{\"rid\":1,\"error\":{\"message\":\"m\",\"name\":\"BadConnectionError\",\"type\":\"disconnect\",\"code\":1001,\"reason\":\"Socket was disconnected\"}}",
      "[1,1e+21,123456789012345680000,0.1,1.5e-7,5e-324,-0.000001,1.7976931348623157e+308]",
      "{\"s\":\"\\ud800 \\u0000 \\\" \\\\ \\n \\t \\b \\f \\r \\u001f\"}",
      "{\"1\":3,\"2\":2,\"b\":1}",
      "[]", "{}", "[[],{},[{}]]"})
  void canonicalTextSurvivesDecodeAndEncode(String text) {
    assertEquals(text, codec.encode(codec.decode(text)));
    assertEquals(text, codec.encode(codec.decode(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)))));
  }

  @Test
  void largePayloadRoundTrips() {
    List<Object> items = new ArrayList<>();
    StringBuilder blob = new StringBuilder();
    for (int i = 0; i < 6500; i++) {
      items.add(map("id", i, "name", "item-" + i + "-\u00e9\uD83D\uDE00", "score", i + 0.25, "ok", i % 2 == 0));
      blob.append("0123456789abcdef");
    }
    Map<String, Object> packet = map("event", "#publish",
        "data", map("channel", "big", "data", map("items", items, "blob", blob.toString())), "cid", 42);
    String text = codec.encode(packet);
    int bytes = text.getBytes(StandardCharsets.UTF_8).length;
    assertTrue(bytes > 500 * 1024, "payload is " + bytes + " bytes");
    assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
      for (int i = 0; i < 20; i++) {
        // assertTrue: a failure message of two 500 KB structures helps nobody.
        assertTrue(packet.equals(codec.decode(codec.encode(packet))));
      }
    });
    assertTrue(text.equals(codec.encode(codec.decode(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8))))));
  }
}
