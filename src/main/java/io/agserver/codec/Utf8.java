package io.agserver.codec;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Decodes bytes to text as node's {@code Buffer#toString()} does, so binary frames read the same
 * as on a JS server. Node replaces each maximal invalid subsequence with U+FFFD (the WHATWG
 * decoder); the JDK sometimes replaces a longer run with a single U+FFFD (an encoded surrogate
 * such as ED A0 80 gives one, node three), so invalid input is decoded again here.
 */
final class Utf8 {

  private static final char REPLACEMENT = '\uFFFD';

  private Utf8() {
  }

  /** Reads the buffer's remaining bytes without moving its position. */
  static String decode(ByteBuffer buffer) {
    byte[] bytes;
    int offset;
    int length = buffer.remaining();
    if (buffer.hasArray()) {
      bytes = buffer.array();
      offset = buffer.arrayOffset() + buffer.position();
    } else {
      bytes = new byte[length];
      buffer.duplicate().get(bytes);
      offset = 0;
    }
    return decode(bytes, offset, length);
  }

  static String decode(byte[] bytes, int offset, int length) {
    String text = new String(bytes, offset, length, StandardCharsets.UTF_8);
    // A replacement char means invalid input, or a real U+FFFD, which the slow path also handles.
    return text.indexOf(REPLACEMENT) < 0 ? text : decodeWhatwg(bytes, offset, length);
  }

  private static String decodeWhatwg(byte[] bytes, int offset, int length) {
    StringBuilder out = new StringBuilder(length);
    int needed = 0;
    int seen = 0;
    int codePoint = 0;
    int lower = 0x80;
    int upper = 0xBF;
    int end = offset + length;
    for (int i = offset; i < end; i++) {
      int b = bytes[i] & 0xFF;
      if (needed == 0) {
        if (b <= 0x7F) {
          out.append((char) b);
        } else if (b >= 0xC2 && b <= 0xDF) {
          needed = 1;
          codePoint = b & 0x1F;
        } else if (b >= 0xE0 && b <= 0xEF) {
          lower = b == 0xE0 ? 0xA0 : 0x80;
          upper = b == 0xED ? 0x9F : 0xBF;
          needed = 2;
          codePoint = b & 0x0F;
        } else if (b >= 0xF0 && b <= 0xF4) {
          lower = b == 0xF0 ? 0x90 : 0x80;
          upper = b == 0xF4 ? 0x8F : 0xBF;
          needed = 3;
          codePoint = b & 0x07;
        } else {
          out.append(REPLACEMENT);
        }
        continue;
      }
      if (b < lower || b > upper) {
        // The sequence so far is one error; the offending byte starts afresh.
        out.append(REPLACEMENT);
        needed = 0;
        seen = 0;
        codePoint = 0;
        lower = 0x80;
        upper = 0xBF;
        i--;
        continue;
      }
      lower = 0x80;
      upper = 0xBF;
      codePoint = (codePoint << 6) | (b & 0x3F);
      if (++seen == needed) {
        out.appendCodePoint(codePoint);
        needed = 0;
        seen = 0;
        codePoint = 0;
      }
    }
    if (needed != 0) {
      out.append(REPLACEMENT);
    }
    return out.toString();
  }
}
