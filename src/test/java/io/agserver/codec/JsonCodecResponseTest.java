package io.agserver.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import io.agserver.protocol.AGError;
import io.agserver.protocol.Undefined;

/** encodeResponse writes exactly what encode writes for the response map it stands for. */
class JsonCodecResponseTest {

  private final JsonCodec codec = JsonCodec.instance();

  private String viaMap(Object rid, String field, Object value) {
    Map<String, Object> packet = new LinkedHashMap<>();
    packet.put("rid", rid);
    if (field != null) {
      packet.put(field, value);
    }
    return codec.encode(packet);
  }

  private void assertSame(Object rid, String field, Object value) {
    assertEquals(viaMap(rid, field, value), codec.encodeResponse(rid, field, value));
  }

  @Test
  void plainValuesAsTheMapWouldBe() {
    Map<String, Object> nested = new LinkedHashMap<>();
    nested.put("a", 1.5);
    nested.put("skipped", Undefined.INSTANCE);
    nested.put("list", List.of(1, "two", false));
    List<Object> values = new ArrayList<>(Arrays.asList(null, "text", "quote \" and \\ and \u0001",
        "lone \ud800 surrogate", "emoji \ud83d\ude00", 0, -7, Integer.MAX_VALUE, 1L << 53, Long.MAX_VALUE,
        1.0, 0.1, 1e21, Double.NaN, Double.POSITIVE_INFINITY, true, false, nested,
        new byte[] {1, 2, 3}, Optional.of("x"), Map.of()));
    for (Object rid : List.of(1, 123456789L, 2.5)) {
      for (Object value : values) {
        assertSame(rid, "data", value);
        assertSame(rid, "error", value);
      }
      assertSame(rid, null, null);
    }
  }

  @Test
  void anUndefinedValueLeavesTheFieldOut() {
    assertEquals("{\"rid\":3}", codec.encodeResponse(3, "data", Undefined.INSTANCE));
    assertSame(3, "data", Undefined.INSTANCE);
  }

  @Test
  void anUnencodableValueFailsAsEncodeDoes() {
    Map<String, Object> cycle = new LinkedHashMap<>();
    cycle.put("self", cycle);
    AGError expected = assertThrows(AGError.class, () -> viaMap(1, "data", cycle));
    AGError actual = assertThrows(AGError.class, () -> codec.encodeResponse(1, "data", cycle));
    assertEquals(expected.name(), actual.name());
  }
}
