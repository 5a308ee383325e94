package io.agserver.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StringSinkTest {

  @Test
  void nothingWrittenIsTheEmptyText() {
    assertEquals("", new StringSink().text());
  }

  @Test
  void everyKindOfWriteLandsInOrder() {
    StringSink sink = new StringSink();
    sink.write("abc".toCharArray(), 1, 2);
    sink.write("", 0, 0);
    sink.write("xyz", 0, 1);
    sink.write('!');
    sink.write("[tail]".toCharArray(), 0, 6);
    assertEquals("bcx![tail]", sink.text());
  }

  @Test
  void oneWriteIsTheText() {
    StringSink sink = new StringSink();
    sink.write("hello", 1, 3);
    assertEquals("ell", sink.text());
  }

  // Longer than a generator's buffer: it then writes to the sink more than once.
  @Test
  void aLongResponseIsWholeAndAsEncodeWritesIt() {
    String text = "0123456789\u00e9\ud800".repeat(20_000);
    Map<String, Object> packet = new LinkedHashMap<>();
    packet.put("rid", 7);
    packet.put("data", text);
    JsonCodec codec = JsonCodec.instance();
    assertEquals(codec.encode(packet), codec.encodeResponse(7, "data", text));
  }
}
