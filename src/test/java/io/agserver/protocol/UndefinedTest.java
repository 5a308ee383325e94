package io.agserver.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import io.agserver.codec.JsonCodec;

/** Undefined crosses the wire as JSON.stringify writes undefined. */
class UndefinedTest {

  private final JsonCodec codec = JsonCodec.instance();

  @Test
  void objectPropertiesHoldingUndefinedAreOmitted() {
    Map<String, Object> packet = new LinkedHashMap<>();
    packet.put("event", "bounced");
    packet.put("data", Undefined.INSTANCE);
    assertEquals("{\"event\":\"bounced\"}", codec.encode(packet));
  }

  @Test
  void nullIsKept() {
    Map<String, Object> packet = new LinkedHashMap<>();
    packet.put("event", "bounced");
    packet.put("data", null);
    assertEquals("{\"event\":\"bounced\",\"data\":null}", codec.encode(packet));
  }

  @Test
  void arrayElementsAndTopLevelBecomeNull() {
    assertEquals("[1,null,2]", codec.encode(Arrays.asList(1, Undefined.INSTANCE, 2)));
    assertEquals("null", codec.encode(Undefined.INSTANCE));
  }

  @Test
  void orNullMapsUndefinedToNull() {
    assertNull(Undefined.orNull(Undefined.INSTANCE));
    assertEquals(5, Undefined.orNull(5));
  }
}
