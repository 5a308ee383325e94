package io.agserver.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PacketsTest {
  private final List<String> seen = new ArrayList<>();

  private final Packets.Sink sink = new Packets.Sink() {
    @Override
    public void reply(long rid, boolean error, ByteBuf frame, int dataStart, int dataEnd) {
      seen.add("reply " + rid + (error ? " error" : "")
          + (dataStart < 0 ? "" : " " + frame.toString(dataStart, dataEnd - dataStart, StandardCharsets.UTF_8)));
    }

    @Override
    public void event(ByteBuf frame, int nameStart, int nameEnd, int dataStart, int dataEnd) {
      seen.add("event " + frame.toString(nameStart, nameEnd - nameStart, StandardCharsets.UTF_8)
          + (dataStart < 0 ? "" : " " + frame.toString(dataStart, dataEnd - dataStart, StandardCharsets.UTF_8)));
    }
  };

  private int scan(String s) {
    return Packets.scan(Unpooled.copiedBuffer(s, StandardCharsets.UTF_8), sink);
  }

  @Test
  void onePacket() {
    assertEquals(1, scan("{\"rid\":1,\"data\":{\"id\":\"x\",\"pingTimeout\":20000,\"isAuthenticated\":false}}"));
    assertEquals(List.of("reply 1 {\"id\":\"x\",\"pingTimeout\":20000,\"isAuthenticated\":false}"), seen);
  }

  @Test
  void arrayOfPacketsInOneFrame() {
    assertEquals(3, scan("[{\"rid\":7},{\"event\":\"#publish\",\"data\":{\"channel\":\"c\",\"data\":[1,{\"a\":\"}]\"}]}},"
        + " {\"data\":\"x\",\"rid\":8}]"));
    assertEquals(List.of("reply 7", "event #publish {\"channel\":\"c\",\"data\":[1,{\"a\":\"}]\"}]}", "reply 8 \"x\""), seen);
  }

  @Test
  void errorsAndNullErrors() {
    assertEquals(2, scan("[{\"rid\":3,\"error\":{\"name\":\"E\",\"message\":\"m\"}},{\"rid\":4,\"error\":null,\"data\":1}]"));
    assertEquals(List.of("reply 3 error", "reply 4 1"), seen);
  }

  @Test
  void escapedQuotesInStrings() {
    assertEquals(1, scan("{\"rid\":5,\"data\":\"a\\\"b\\\\\"}"));
    assertEquals(List.of("reply 5 \"a\\\"b\\\\\""), seen);
  }

  @Test
  void whitespaceAndKeyOrder() {
    assertEquals(1, scan(" { \"data\" : [ ] , \"rid\" : 12 } "));
    assertEquals(List.of("reply 12 [ ]"), seen);
  }

  @Test
  void notPackets() {
    assertEquals(-1, scan("#1"));
    assertEquals(-1, scan("{\"rid\":1"));
    assertEquals(-1, scan("[{\"rid\":1},"));
    assertEquals(-1, scan("\"x\""));
  }

  @Test
  void markersAndNumbers() {
    ByteBuf b = Unpooled.copiedBuffer("{\"lg_s\":42,\"lg_t\":-17,\"p\":\"lg_s\"}", StandardCharsets.UTF_8);
    assertEquals(42, Packets.numberAfter(b, 0, b.writerIndex(), "\"lg_s\":".getBytes(StandardCharsets.US_ASCII)));
    assertEquals(-17, Packets.numberAfter(b, 0, b.writerIndex(), "\"lg_t\":".getBytes(StandardCharsets.US_ASCII)));
    assertEquals(Long.MIN_VALUE, Packets.numberAfter(b, 0, b.writerIndex(), "\"zz\":".getBytes(StandardCharsets.US_ASCII)));
    ByteBuf out = Unpooled.buffer();
    for (long v : new long[] {0, 7, 10, 99, 1234567890123L, -5}) {
      out.clear();
      Packets.writeLong(out, v);
      assertEquals(Long.toString(v), out.toString(StandardCharsets.US_ASCII));
    }
    assertTrue(Packets.is(b, 2, "lg_s".getBytes(StandardCharsets.US_ASCII)));
    assertFalse(Packets.is(b, 30, "lg_s\"}xx".getBytes(StandardCharsets.US_ASCII)));
  }

  @Test
  void heapInfoOfEachCollector() {
    String serial = " def new generation   total 4928K, used 2516K [0x1, 0x2, 0x3)\n"
        + "  eden space 4416K,  56% used [0x1, 0x2, 0x3)\n"
        + " tenured generation   total 10944K, used 100K [0x1, 0x2, 0x3)\n"
        + "   the space 10944K,   0% used [0x1, 0x2, 0x3)\n"
        + " Metaspace       used 1028K, committed 1216K, reserved 1114112K\n";
    assertEquals((2516 + 100) * 1024L, Heap.parseUsed(serial));
    String g1 = " garbage-first heap   total 258048K, used 2048K [0x1, 0x2)\n  region size 1024K, 3 young (3072K)\n";
    assertEquals(2048 * 1024L, Heap.parseUsed(g1));
    assertEquals(8 * 1024 * 1024L, Heap.parseUsed(" ZHeap           used 8M, capacity 32M, max capacity 512M\n"));
    assertEquals(-1, Heap.parseUsed("nothing"));
  }
}
