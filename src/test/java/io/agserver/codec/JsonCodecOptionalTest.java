package io.agserver.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import io.agserver.protocol.Undefined;

/**
 * Optionals have no JS counterpart: a peer sees their content, or null when empty, wherever they
 * sit (root, map, list, record) and whichever kind they are. These texts are what the codec wrote
 * before it took Jackson's jdk8 module for them.
 */
class JsonCodecOptionalTest {

  private final JsonCodec codec = JsonCodec.instance();

  record Holder(Optional<String> text, OptionalInt count, OptionalLong big, OptionalDouble ratio,
      Optional<Object> any) {
  }

  @Test
  void rootOptionalsAreTheirContentOrNull() {
    assertEquals("null", codec.encode(Optional.empty()));
    assertEquals("\"x\"", codec.encode(Optional.of("x")));
    assertEquals("null", codec.encode(Optional.of(Optional.empty())));
    assertEquals("1", codec.encode(Optional.of(Optional.of(1))));
  }

  @Test
  void primitiveOptionalsFollowTheNumberRules() {
    assertEquals("3", codec.encode(OptionalInt.of(3)));
    assertEquals("null", codec.encode(OptionalInt.empty()));
    assertEquals("9223372036854775807", codec.encode(OptionalLong.of(Long.MAX_VALUE)));
    assertEquals("null", codec.encode(OptionalLong.empty()));
    assertEquals("1", codec.encode(OptionalDouble.of(1.0)));
    assertEquals("1e+21", codec.encode(OptionalDouble.of(1e21)));
    assertEquals("null", codec.encode(OptionalDouble.of(Double.NaN)));
    assertEquals("null", codec.encode(OptionalDouble.empty()));
    assertEquals("1.5", codec.encode(Optional.of(1.5f)));
  }

  @Test
  void contentGoesThroughTheCodecsOwnSerializers() {
    assertEquals("{\"base64\":true,\"data\":\"AQI=\"}", codec.encode(Optional.of(new byte[] {1, 2})));
    assertEquals("\"lone \\ud800\"", codec.encode(Optional.of("lone \ud800")));
    Map<String, Object> inner = new LinkedHashMap<>();
    inner.put("x", Undefined.INSTANCE);
    inner.put("y", 1);
    assertEquals("{\"y\":1}", codec.encode(Optional.of(inner)));
    assertEquals("[2]", codec.encode(Optional.of(List.of(Optional.of(2)))));
  }

  @Test
  void emptyOptionalsInMapsAndRecordsAreKeptAsNull() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("u", Optional.of(Undefined.INSTANCE));
    map.put("n", Optional.empty());
    assertEquals("{\"u\":null,\"n\":null}", codec.encode(map));
    assertEquals("{\"text\":null,\"count\":null,\"big\":null,\"ratio\":null,\"any\":null}",
        codec.encode(new Holder(Optional.empty(), OptionalInt.empty(), OptionalLong.empty(),
            OptionalDouble.empty(), Optional.empty())));
    assertEquals("{\"text\":\"s\",\"count\":1,\"big\":2,\"ratio\":2.5,\"any\":null}",
        codec.encode(new Holder(Optional.of("s"), OptionalInt.of(1), OptionalLong.of(2),
            OptionalDouble.of(2.5), Optional.of(Undefined.INSTANCE))));
  }

  @Test
  void responsesWriteOptionalsAsEncodeDoes() {
    assertEquals("{\"rid\":1,\"data\":null}", codec.encodeResponse(1, "data", Optional.empty()));
    assertEquals("{\"rid\":1,\"data\":5}", codec.encodeResponse(1, "data", Optional.of(5)));
  }

  @Test
  void plainValuesConvertIntoOptionalFields() {
    Holder holder = codec.convert(Map.of("text", "x", "count", 4), Holder.class);
    assertEquals(Optional.of("x"), holder.text());
    assertEquals(OptionalInt.of(4), holder.count());
    assertEquals(OptionalLong.empty(), holder.big());
  }
}
