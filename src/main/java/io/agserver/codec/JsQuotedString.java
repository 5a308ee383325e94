package io.agserver.codec;

import com.fasterxml.jackson.core.SerializableString;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A string quoted exactly as JSON.stringify quotes it, for the strings Jackson would get wrong:
 * those with a lone surrogate, which JSON.stringify writes as a lowercase &#92;udxxx escape
 * while Jackson writes the raw char (not valid UTF-8 once sent). Jackson's own escaping is
 * otherwise the same as JSON.stringify's once {@code WRITE_HEX_UPPER_CASE} is off.
 */
final class JsQuotedString implements SerializableString {

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private final String value;
  private final char[] quoted;

  JsQuotedString(String value) {
    this.value = value;
    this.quoted = quote(value);
  }

  /** Whether Jackson's escaping would differ from JSON.stringify's for this text. */
  static boolean hasLoneSurrogate(String text) {
    for (int i = 0, n = text.length(); i < n; i++) {
      char c = text.charAt(i);
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
          i++;
        } else {
          return true;
        }
      }
    }
    return false;
  }

  static boolean hasLoneSurrogate(char[] text, int offset, int length) {
    for (int i = offset, end = offset + length; i < end; i++) {
      if (Character.isSurrogate(text[i])) {
        return hasLoneSurrogate(new String(text, offset, length));
      }
    }
    return false;
  }

  /** The body of JSON.stringify's QuoteJSONString, without the surrounding quotes. */
  private static char[] quote(String text) {
    StringBuilder out = new StringBuilder(text.length() + 16);
    for (int i = 0, n = text.length(); i < n; i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"':
          out.append("\\\"");
          break;
        case '\\':
          out.append("\\\\");
          break;
        case '\b':
          out.append("\\b");
          break;
        case '\f':
          out.append("\\f");
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        default:
          if (c < 0x20) {
            unicodeEscape(out, c);
          } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
            out.append(c).append(text.charAt(++i));
          } else if (Character.isSurrogate(c)) {
            unicodeEscape(out, c);
          } else {
            out.append(c);
          }
      }
    }
    char[] chars = new char[out.length()];
    out.getChars(0, chars.length, chars, 0);
    return chars;
  }

  private static void unicodeEscape(StringBuilder out, char c) {
    out.append("\\u").append(HEX[c >> 12]).append(HEX[(c >> 8) & 0xF])
        .append(HEX[(c >> 4) & 0xF]).append(HEX[c & 0xF]);
  }

  @Override
  public String getValue() {
    return value;
  }

  @Override
  public int charLength() {
    return value.length();
  }

  @Override
  public char[] asQuotedChars() {
    return quoted.clone();
  }

  @Override
  public byte[] asQuotedUTF8() {
    // The escaped form has no lone surrogate left, so it encodes losslessly.
    return new String(quoted).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public byte[] asUnquotedUTF8() {
    return value.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public int appendQuoted(char[] buffer, int offset) {
    return copy(quoted, buffer, offset);
  }

  @Override
  public int appendUnquoted(char[] buffer, int offset) {
    return copy(value.toCharArray(), buffer, offset);
  }

  @Override
  public int appendQuotedUTF8(byte[] buffer, int offset) {
    return copy(asQuotedUTF8(), buffer, offset);
  }

  @Override
  public int appendUnquotedUTF8(byte[] buffer, int offset) {
    return copy(asUnquotedUTF8(), buffer, offset);
  }

  @Override
  public int writeQuotedUTF8(OutputStream out) throws IOException {
    byte[] bytes = asQuotedUTF8();
    out.write(bytes);
    return bytes.length;
  }

  @Override
  public int writeUnquotedUTF8(OutputStream out) throws IOException {
    byte[] bytes = asUnquotedUTF8();
    out.write(bytes);
    return bytes.length;
  }

  @Override
  public int putQuotedUTF8(ByteBuffer buffer) {
    return put(asQuotedUTF8(), buffer);
  }

  @Override
  public int putUnquotedUTF8(ByteBuffer buffer) {
    return put(asUnquotedUTF8(), buffer);
  }

  @Override
  public String toString() {
    return value;
  }

  /** Jackson's contract: the count copied, or -1 (nothing copied) when it does not fit. */
  private static int copy(char[] source, char[] target, int offset) {
    if (offset + source.length > target.length) {
      return -1;
    }
    System.arraycopy(source, 0, target, offset, source.length);
    return source.length;
  }

  private static int copy(byte[] source, byte[] target, int offset) {
    if (offset + source.length > target.length) {
      return -1;
    }
    System.arraycopy(source, 0, target, offset, source.length);
    return source.length;
  }

  private static int put(byte[] source, ByteBuffer target) {
    if (source.length > target.remaining()) {
      return -1;
    }
    target.put(source);
    return source.length;
  }
}
