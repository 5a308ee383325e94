package io.agserver.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad frames and bad packets against the running server: what socketcluster-server 20.0.1 on
 * ws 8.23.0 does with each (checked with the same options, maxPayload 1 MiB): frames over
 * maxPayload close with 1009, invalid UTF-8 with 1007, frame-level protocol errors with 1002;
 * malformed JSON and packets of unknown shape are {@code raw} messages (the conformance app
 * transmits each back on receiver {@code raw}) and never close the socket.
 */
class BadInputIT {

  static final int MAX_PAYLOAD = 1024 * 1024;

  private static byte[] repeat(char c, int n) {
    byte[] bytes = new byte[n];
    Arrays.fill(bytes, (byte) c);
    return bytes;
  }

  /** The data of an echo packet of exactly {@code size} bytes with this cid. */
  private static String echoData(long cid, int size) {
    return "x".repeat(size - echoPacket(cid, "").length);
  }

  private static byte[] echoPacket(long cid, String data) {
    return ("{\"event\":\"echo\",\"data\":\"" + data + "\",\"cid\":" + cid + "}").getBytes(StandardCharsets.UTF_8);
  }

  // ---- maxPayload ----

  @Test
  void textFrameOverMaxPayloadClosesWith1009() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect()) {
      ws.sendRefused(RawWebSocket.TEXT, repeat('x', MAX_PAYLOAD + 1));
      RawWebSocket.Frame close = ws.awaitClose(5000);
      assertEquals(1009, close.code(), "close: " + close);
      // ws sends no reason; the official client then reports "Message was too big to process".
      assertEquals("", close.reason());
    }
  }

  /**
   * Far over maxPayload (3 MiB here) the code is the same; on Open Liberty, which refuses such a
   * frame from its header, the close carries the container's own reason.
   */
  @Test
  void frameFarOverMaxPayloadClosesWith1009() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect()) {
      ws.sendRefused(RawWebSocket.BINARY, repeat('x', 3 * MAX_PAYLOAD));
      RawWebSocket.Frame close = ws.awaitClose(5000);
      assertEquals(1009, close.code(), "close: " + close);
    }
  }

  @Test
  void binaryFrameOverMaxPayloadClosesWith1009() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect()) {
      ws.sendRefused(RawWebSocket.BINARY, repeat('x', MAX_PAYLOAD + 1));
      RawWebSocket.Frame close = ws.awaitClose(5000);
      assertEquals(1009, close.code(), "close: " + close);
    }
  }

  @Test
  void frameOverMaxPayloadBeforeTheHandshakeClosesWith1009() throws Exception {
    try (RawWebSocket ws = RawWebSocket.open()) {
      ws.sendRefused(RawWebSocket.TEXT, repeat('x', MAX_PAYLOAD + 1));
      RawWebSocket.Frame close = ws.awaitClose(5000);
      assertEquals(1009, close.code(), "close: " + close);
    }
  }

  /** maxPayload bounds the message, not the frame: fragments adding up to more close with 1009. */
  @Test
  void fragmentedMessageOverMaxPayloadClosesWith1009() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect()) {
      int part = MAX_PAYLOAD / 2 + 1;
      ws.writeFrame(RawWebSocket.TEXT, false, repeat('x', part), true);
      ws.writeFrame(RawWebSocket.CONTINUATION, true, repeat('x', part), true);
      RawWebSocket.Frame close = ws.awaitClose(5000);
      assertEquals(1009, close.code(), "close: " + close);
      assertEquals("", close.reason(), "ws closes with the bare code");
    }
  }

  /**
   * A fragmented message that never ends: cut off with 1009 as soon as its fragments pass
   * maxPayload, not buffered until an end that never comes. The client sends fragments up to the
   * limit and one past it, then waits: had it gone on sending, what it sent after the fragment
   * that crossed the limit would be unread when Open Liberty closes the connection, and the
   * kernel then resets it, at times before the close frame went out (see MessageAssembler).
   */
  @Test
  void endlessFragmentsCloseWith1009() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect()) {
      byte[] chunk = repeat('x', 64 * 1024);
      ws.writeFrame(RawWebSocket.BINARY, false, chunk, true);
      for (int sent = chunk.length; sent < MAX_PAYLOAD; sent += chunk.length) {
        ws.writeFrame(RawWebSocket.CONTINUATION, false, chunk, true);
      }
      ws.writeFrame(RawWebSocket.CONTINUATION, false, repeat('x', 1024), true);
      RawWebSocket.Frame close = ws.awaitClose(5000);
      assertEquals(1009, close.code(), "close: " + close);
    }
  }

  @Test
  void messageOfExactlyMaxPayloadIsAccepted() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect()) {
      String data = echoData(77, MAX_PAYLOAD);
      byte[] packet = echoPacket(77, data);
      assertEquals(MAX_PAYLOAD, packet.length);
      ws.sendText(packet);
      assertEquals(data, ws.awaitResponse(77, 10_000).get("data"), "echoed in full");
      assertEquals("after", ws.call("echo", "after"));
    }
  }

  /** A message in fragments (text, then continuations) is one message. */
  @Test
  void fragmentedMessageWithinMaxPayloadIsReassembled() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect()) {
      String packet = "{\"event\":\"echo\",\"data\":\"héllo wörld\",\"cid\":55}";
      byte[] bytes = packet.getBytes(StandardCharsets.UTF_8);
      // Split on character boundaries: "{\"event\":" | "\"echo\",\"data\":\"h" | the rest.
      int a = 9;
      int b = packet.indexOf('h', 20) + 1;
      ws.writeFrame(RawWebSocket.TEXT, false, Arrays.copyOfRange(bytes, 0, a), true);
      ws.writeFrame(RawWebSocket.CONTINUATION, false, Arrays.copyOfRange(bytes, a, b), true);
      ws.writeFrame(RawWebSocket.CONTINUATION, true, Arrays.copyOfRange(bytes, b, bytes.length), true);
      assertEquals("héllo wörld", ws.awaitResponse(55, 5000).get("data"));

      // Binary fragments too.
      byte[] binary = "{\"event\":\"echo\",\"data\":[1,2,3],\"cid\":56}".getBytes(StandardCharsets.UTF_8);
      ws.writeFrame(RawWebSocket.BINARY, false, Arrays.copyOfRange(binary, 0, 5), true);
      ws.writeFrame(RawWebSocket.CONTINUATION, true, Arrays.copyOfRange(binary, 5, binary.length), true);
      assertEquals(List.of(1L, 2L, 3L), ws.awaitResponse(56, 5000).get("data"));
    }
  }

  // ---- invalid UTF-8 ----

  @Test
  void invalidUtf8ClosesWith1007() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect()) {
      byte[] prefix = "{\"event\":\"echo\",\"data\":\"".getBytes(StandardCharsets.UTF_8);
      byte[] bad = Arrays.copyOf(prefix, prefix.length + 4);
      bad[prefix.length] = (byte) 0xff;
      bad[prefix.length + 1] = (byte) 0xfe;
      bad[prefix.length + 2] = '"';
      bad[prefix.length + 3] = '}';
      ws.sendText(bad);
      RawWebSocket.Frame close = ws.awaitClose(5000);
      assertEquals(1007, close.code(), "close: " + close);
    }
  }

  @Test
  void invalidUtf8BeforeTheHandshakeClosesWith1007() throws Exception {
    try (RawWebSocket ws = RawWebSocket.open()) {
      ws.sendText(new byte[] {(byte) 0xc3, 0x28});
      RawWebSocket.Frame close = ws.awaitClose(5000);
      assertEquals(1007, close.code(), "close: " + close);
    }
  }

  // ---- frame-level protocol errors ----

  @Test
  void unmaskedClientFrameClosesWith1002() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect()) {
      ws.writeFrame(RawWebSocket.TEXT, true, "hello".getBytes(StandardCharsets.UTF_8), false);
      assertEquals(1002, ws.awaitClose(5000).code());
    }
  }

  @Test
  void reservedOpcodeClosesWith1002() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect()) {
      ws.writeFrame(3, true, "x".getBytes(StandardCharsets.UTF_8), true);
      assertEquals(1002, ws.awaitClose(5000).code());
    }
  }

  /** A WebSocket ping is answered with a pong with the same data and does not count as anything. */
  @Test
  void webSocketPingGetsPong() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect()) {
      ws.writeFrame(RawWebSocket.PING, true, "pingdata".getBytes(StandardCharsets.UTF_8), true);
      RawWebSocket.Frame pong = ws.await(f -> f.opcode() == RawWebSocket.PONG, 3000, "pong");
      assertEquals("pingdata", new String(pong.payload(), StandardCharsets.UTF_8));
      assertEquals(1L, ws.call("echo", 1L));
    }
  }

  // ---- binary frames ----

  /** The original decodes a binary frame as UTF-8 text: a packet in a binary frame is a packet. */
  @Test
  void packetInABinaryFrameIsHandledLikeText() throws Exception {
    try (RawWebSocket ws = RawWebSocket.open()) {
      ws.sendBinary(RawWebSocket.HANDSHAKE.getBytes(StandardCharsets.UTF_8));
      ws.awaitResponse(1, 5000);
      ws.sendBinary("{\"event\":\"echo\",\"data\":\"bin\",\"cid\":9}".getBytes(StandardCharsets.UTF_8));
      RawWebSocket.Frame reply = ws.await(f -> f.isText() && f.text().contains("\"rid\":9"), 5000, "echo reply");
      assertEquals(Map.of("rid", 9L, "data", "bin"), Json.parse(reply.text()), "a text frame, as for text");
    }
  }

  /**
   * A binary frame that is no packet is a raw message (the original's raw event carries the
   * Buffer; the conformance app transmits back the message's text), and so is an empty binary
   * frame, which is not a pong.
   */
  @Test
  void binaryFrameThatIsNoPacketIsRaw() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect()) {
      ws.sendBinary("hello-bin".getBytes(StandardCharsets.UTF_8));
      Object data = ws.awaitEvent("raw", 3000).get("data");
      assertTrue("hello-bin".equals(data)
              || Map.of("base64", true, "data", "aGVsbG8tYmlu").equals(data),
          "raw data " + data);
      assertEquals(2L, ws.call("echo", 2L));
    }
  }

  // ---- raw messages ----

  /**
   * Malformed JSON and packets of unknown shape reach the application as raw messages, in order;
   * a batch emits one raw (with the whole message) per element that is neither an event nor a
   * response; nothing closes the socket.
   */
  @Test
  void malformedMessagesAreRawAndNeverClose() throws Exception {
    List<String> messages = List.of(
        "hello", "{bad json", "123", "{\"foo\":1}", "[1,2]", "{\"event\":5}", "{\"rid\":\"x\"}",
        "null", "\"str\"", "  {\"a\":1}", "#1", "#2", "[]", "[{\"foo\":1},\"x\"]", "{\"cid\":3}",
        "tru", "{\"event\":null,\"cid\":4}", "[[]]", "{}");
    List<String> expected = new ArrayList<>();
    for (String m : messages) {
      switch (m) {
        case "[1,2]", "[{\"foo\":1},\"x\"]" -> {
          expected.add(m);
          expected.add(m);
        }
        case "[]" -> { }
        default -> expected.add(m);
      }
    }
    try (RawWebSocket ws = RawWebSocket.connect()) {
      for (String m : messages) {
        ws.sendText(m);
      }
      long cid = ws.send("echo", "after");
      List<Object> raws = new ArrayList<>();
      boolean answered = false;
      while (raws.size() < expected.size() || !answered) {
        Map<?, ?> packet = ws.awaitPacket(p -> "raw".equals(p.get("event"))
            || (p.get("rid") instanceof Number n && n.longValue() == cid), 5000,
            "raw " + (raws.size() + 1) + " of " + expected.size() + " or the echo; raws so far " + raws);
        if ("raw".equals(packet.get("event"))) {
          raws.add(packet.get("data"));
        } else {
          assertEquals("after", packet.get("data"));
          answered = true;
        }
      }
      assertEquals(expected, raws);
      assertEquals("open", ws.call("echo", "open"));
      assertTrue(ws.seen().stream().noneMatch(RawWebSocket.Frame::isClose), "no close: " + ws.seen());
    }
  }

  /** A batch mixing calls and junk: each call is answered, each junk element is a raw message. */
  @Test
  void batchWithJunkAnswersItsCallsAndRawsTheRest() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect()) {
      String batch = "[{\"event\":\"echo\",\"data\":1,\"cid\":5},\"junk\",{\"foo\":2},"
          + "{\"event\":\"echo\",\"data\":2,\"cid\":6}]";
      ws.sendText(batch);
      List<Object> got = new ArrayList<>();
      while (got.size() < 4) {
        Map<?, ?> p = ws.awaitPacket(m -> "raw".equals(m.get("event")) || m.get("rid") != null, 5000, "packet");
        got.add("raw".equals(p.get("event")) ? p.get("data") : "rid" + p.get("rid") + "=" + p.get("data"));
      }
      assertTrue(got.containsAll(List.of("rid5=1", "rid6=2")), "both calls answered: " + got);
      assertEquals(2, got.stream().filter(batch::equals).count(), "two raws with the whole batch: " + got);
      assertTrue(got.indexOf("rid5=1") < got.indexOf("rid6=2"), "answers in order: " + got);
    }
  }

  /** A response to nothing (unknown rid) is ignored: no raw, no close. */
  @Test
  void responseToNothingIsIgnored() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect()) {
      ws.sendText("{\"rid\":424242,\"data\":1}");
      ws.sendText("{\"rid\":424243,\"error\":{\"name\":\"X\",\"message\":\"y\"}}");
      assertEquals("fine", ws.call("echo", "fine"));
      assertTrue(ws.seen().stream().noneMatch(f -> f.isText() && f.text().contains("\"raw\"")),
          "no raw: " + ws.seen());
    }
  }

  /** Calls to procedures nobody serves, transmits to receivers nobody reads: no answer, no close. */
  @ParameterizedTest
  @ValueSource(strings = {
      "{\"event\":\"noSuchProcedure\",\"data\":1,\"cid\":8}",
      "{\"event\":\"noSuchReceiver\",\"data\":1}",
      "{\"event\":\"\",\"cid\":8}",
      "{\"event\":\"#unknownInternal\",\"cid\":8}"})
  void unservedEventsAreSilent(String packet) throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect()) {
      ws.sendText(packet);
      assertEquals("still open", ws.call("echo", "still open"));
      assertTrue(ws.seen().stream().noneMatch(f -> f.isText() && f.text().contains("\"rid\":8")),
          "no answer: " + ws.seen());
    }
  }
}
