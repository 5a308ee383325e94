package io.agserver.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

import jakarta.websocket.Extension;

import org.glassfish.tyrus.core.TyrusExtension;
import org.glassfish.tyrus.core.extension.ExtendedExtension;
import org.glassfish.tyrus.core.frame.Frame;
import org.junit.jupiter.api.Test;

/**
 * permessage-deflate on Tyrus: which offers are accepted (parsed by Tyrus's own header parser),
 * and frames both ways, checked against java.util.zip as a client would use zlib.
 */
class TyrusPerMessageDeflateTest {

  private static final byte[] TAIL = {0x00, 0x00, (byte) 0xff, (byte) 0xff};
  private static final ExtendedExtension.ExtensionContext CONTEXT = () -> new java.util.HashMap<String, Object>();

  private static TyrusPerMessageDeflate negotiate(String header) {
    return negotiate(header, 1 << 20);
  }

  private static TyrusPerMessageDeflate negotiate(String header, long maxPayload) {
    List<Extension> offers = TyrusExtension.fromString(List.of(header));
    return (TyrusPerMessageDeflate) TyrusPerMessageDeflate.negotiator(maxPayload).negotiate(offers);
  }

  /** The Sec-WebSocket-Extensions value Tyrus writes for it (its own, package-private, renderer). */
  private static String response(TyrusPerMessageDeflate extension) {
    try {
      java.lang.reflect.Method render = TyrusExtension.class.getDeclaredMethod("toString", Extension.class);
      render.setAccessible(true);
      return (String) render.invoke(null, new TyrusExtension(extension.getName(),
          extension.onExtensionNegotiation(CONTEXT, null)));
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void offersItCanHonourAreAccepted() {
    assertEquals("permessage-deflate", response(negotiate("permessage-deflate")));
    // What browsers send.
    assertEquals("permessage-deflate", response(negotiate("permessage-deflate; client_max_window_bits")));
    assertEquals("permessage-deflate", response(negotiate("permessage-deflate; client_max_window_bits=10")));
    assertEquals("permessage-deflate; server_max_window_bits=15",
        response(negotiate("permessage-deflate; server_max_window_bits=15")));
    assertEquals("permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        response(negotiate("permessage-deflate; server_no_context_takeover; client_no_context_takeover")));
  }

  @Test
  void offersItCannotHonourAreDeclined() {
    assertNull(negotiate("permessage-deflate; server_max_window_bits=10"), "a deflater's window is 15 bits");
    assertNull(negotiate("permessage-deflate; server_max_window_bits"), "the value is required");
    assertNull(negotiate("permessage-deflate; client_max_window_bits=7"));
    assertNull(negotiate("permessage-deflate; mystery"));
    assertNull(negotiate("permessage-deflate; server_no_context_takeover=1"));
    assertNull(negotiate("permessage-deflate; client_no_context_takeover; client_no_context_takeover"));
    assertNull(negotiate("x-webkit-deflate-frame"));
  }

  @Test
  void theFirstAcceptableOfSeveralOffersWins() {
    TyrusPerMessageDeflate accepted = negotiate(
        "permessage-deflate; server_max_window_bits=10, permessage-deflate; server_no_context_takeover");
    assertNotNull(accepted);
    assertEquals("permessage-deflate; server_no_context_takeover", response(accepted));
  }

  // ---- outgoing ----

  @Test
  void smallMessagesGoAsTheyAre() {
    TyrusPerMessageDeflate extension = negotiate("permessage-deflate");
    Frame frame = text("{\"event\":\"#publish\",\"data\":{\"channel\":\"c\",\"data\":1}}", true);
    assertSame(frame, extension.processOutgoing(CONTEXT, frame));
  }

  @Test
  void largeMessagesAreCompressedAndInflateBack() throws Exception {
    TyrusPerMessageDeflate extension = negotiate("permessage-deflate");
    String message = publish(4000);
    Frame out = extension.processOutgoing(CONTEXT, text(message, true));
    assertTrue(out.isRsv1(), "RSV1 marks a compressed message");
    assertTrue(out.getPayloadLength() < message.length() / 2, "compressed to " + out.getPayloadLength());
    Inflater client = new Inflater(true);
    assertEquals(message, inflate(client, out.getPayloadData()));

    // The context is kept: the same message again costs far less, and the client's inflater,
    // which kept its window, reads it.
    Frame again = extension.processOutgoing(CONTEXT, text(message, true));
    assertTrue(again.getPayloadLength() < out.getPayloadLength() / 4, again.getPayloadLength() + " bytes");
    assertEquals(message, inflate(client, again.getPayloadData()));
  }

  @Test
  void withoutContextTakeoverEachMessageStandsAlone() throws Exception {
    TyrusPerMessageDeflate extension = negotiate("permessage-deflate; server_no_context_takeover");
    String message = publish(4000);
    Frame first = extension.processOutgoing(CONTEXT, text(message, true));
    Frame second = extension.processOutgoing(CONTEXT, text(message, true));
    assertEquals(first.getPayloadLength(), second.getPayloadLength());
    assertEquals(message, inflate(new Inflater(true), second.getPayloadData()));
  }

  @Test
  void controlFramesAreLeftAlone() {
    TyrusPerMessageDeflate extension = negotiate("permessage-deflate");
    Frame ping = Frame.builder().fin(true).opcode((byte) 0x09).payloadData(new byte[2000]).build();
    assertSame(ping, extension.processOutgoing(CONTEXT, ping));
    assertSame(ping, extension.processIncoming(CONTEXT, ping));
  }

  // ---- incoming ----

  @Test
  void compressedMessagesFromTheClientAreInflated() {
    TyrusPerMessageDeflate extension = negotiate("permessage-deflate");
    Deflater client = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
    for (String message : List.of("{\"event\":\"#handshake\",\"cid\":1}", publish(3000), publish(3000))) {
      Frame in = extension.processIncoming(CONTEXT, compressed(client, message, true, true));
      assertFalse(in.isRsv1());
      assertEquals(message, new String(in.getPayloadData(), StandardCharsets.UTF_8));
    }
    Frame plain = text("not compressed", true);
    assertSame(plain, extension.processIncoming(CONTEXT, plain), "a client may send any message uncompressed");
  }

  @Test
  void aFragmentedCompressedMessageIsInflatedFrameByFrame() {
    TyrusPerMessageDeflate extension = negotiate("permessage-deflate");
    String message = publish(5000);
    byte[] whole = deflate(new Deflater(Deflater.DEFAULT_COMPRESSION, true), message);
    int cut = whole.length / 2;
    Frame first = Frame.builder().fin(false).rsv1(true).opcode((byte) 1)
        .payloadData(Arrays.copyOfRange(whole, 0, cut)).build();
    Frame last = Frame.builder().fin(true).opcode((byte) 0).payloadData(Arrays.copyOfRange(whole, cut, whole.length))
        .build();
    ByteArrayOutputStream joined = new ByteArrayOutputStream();
    joined.writeBytes(extension.processIncoming(CONTEXT, first).getPayloadData());
    joined.writeBytes(extension.processIncoming(CONTEXT, last).getPayloadData());
    assertEquals(message, joined.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aMessageThatInflatesPastMaxPayloadClosesWith1009() {
    TyrusPerMessageDeflate extension = negotiate("permessage-deflate", 10_000);
    // 10,001 zeros compress to a few dozen bytes: the inflated size is what counts.
    Frame bomb = compressed(new Deflater(Deflater.DEFAULT_COMPRESSION, true), "0".repeat(10_001), true, true);
    assertTrue(bomb.getPayloadLength() < 100);
    Frame out = extension.processIncoming(CONTEXT, bomb);
    assertEquals(0x08, out.getOpcode());
    assertEquals(1009, closeCode(out));

    TyrusPerMessageDeflate exact = negotiate("permessage-deflate", 10_000);
    Frame fits = compressed(new Deflater(Deflater.DEFAULT_COMPRESSION, true), "0".repeat(10_000), true, true);
    assertEquals(10_000, exact.processIncoming(CONTEXT, fits).getPayloadLength());
  }

  @Test
  void invalidCompressedDataClosesWith1007() {
    TyrusPerMessageDeflate extension = negotiate("permessage-deflate");
    Frame garbage = Frame.builder().fin(true).rsv1(true).opcode((byte) 1)
        .payloadData(new byte[] {(byte) 0xff, (byte) 0xff, 0x12, 0x34}).build();
    Frame out = extension.processIncoming(CONTEXT, garbage);
    assertEquals(0x08, out.getOpcode());
    assertEquals(1007, closeCode(out));
  }

  @Test
  void destroyEndsTheStreamsAndIsHarmlessTwice() {
    TyrusPerMessageDeflate extension = negotiate("permessage-deflate");
    extension.processOutgoing(CONTEXT, text(publish(2000), true));
    extension.destroy(CONTEXT);
    extension.destroy(CONTEXT);
  }

  // ---- helpers ----

  private static String publish(int size) {
    StringBuilder data = new StringBuilder();
    for (int i = 0; data.length() < size; i++) {
      data.append("{\"user\":\"u").append(i % 7).append("\",\"text\":\"message number ").append(i).append("\"},");
    }
    return "{\"event\":\"#publish\",\"data\":{\"channel\":\"room\",\"data\":[" + data + "{}]}}";
  }

  private static Frame text(String text, boolean fin) {
    return Frame.builder().fin(fin).opcode((byte) 1).payloadData(text.getBytes(StandardCharsets.UTF_8)).build();
  }

  private static byte[] deflate(Deflater deflater, String message) {
    deflater.setInput(message.getBytes(StandardCharsets.UTF_8));
    byte[] buffer = new byte[message.length() + 64];
    int length = deflater.deflate(buffer, 0, buffer.length, Deflater.SYNC_FLUSH);
    assertTrue(length < buffer.length);
    assertArrayEquals(TAIL, Arrays.copyOfRange(buffer, length - 4, length));
    return Arrays.copyOf(buffer, length - 4);
  }

  private static Frame compressed(Deflater deflater, String message, boolean fin, boolean rsv1) {
    return Frame.builder().fin(fin).rsv1(rsv1).opcode((byte) 1).payloadData(deflate(deflater, message)).build();
  }

  private static String inflate(Inflater inflater, byte[] payload) throws Exception {
    byte[] input = Arrays.copyOf(payload, payload.length + 4);
    System.arraycopy(TAIL, 0, input, payload.length, 4);
    inflater.setInput(input);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    while (true) {
      int n = inflater.inflate(buffer);
      out.write(buffer, 0, n);
      if (n == 0 && inflater.needsInput()) {
        return out.toString(StandardCharsets.UTF_8);
      }
    }
  }

  private static int closeCode(Frame close) {
    byte[] payload = close.getPayloadData();
    return ((payload[0] & 0xff) << 8) | (payload[1] & 0xff);
  }

}
