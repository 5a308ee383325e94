package io.agserver.codec;

import java.io.Writer;

/**
 * A writer for one short text, read once with {@link #text}. A generator buffers what it writes
 * and hands it over in one write when closed, so the common case is one array copied into the
 * String, with no lock (StringWriter's StringBuffer) and no intermediate buffer to grow.
 */
final class StringSink extends Writer {

  private String first;
  private StringBuilder more;

  @Override
  public void write(char[] chars, int offset, int length) {
    if (length == 0) {
      return;
    }
    if (more != null) {
      more.append(chars, offset, length);
    } else if (first == null) {
      first = new String(chars, offset, length);
    } else {
      more = new StringBuilder(first.length() + length + 64).append(first).append(chars, offset, length);
      first = null;
    }
  }

  @Override
  public void write(String text, int offset, int length) {
    if (length == 0) {
      return;
    }
    if (more != null) {
      more.append(text, offset, offset + length);
    } else if (first == null) {
      first = text.substring(offset, offset + length);
    } else {
      more = new StringBuilder(first.length() + length + 64).append(first).append(text, offset, offset + length);
      first = null;
    }
  }

  @Override
  public void write(int c) {
    write(new char[] {(char) c}, 0, 1);
  }

  @Override
  public void flush() {
  }

  @Override
  public void close() {
  }

  String text() {
    return more != null ? more.toString() : first != null ? first : "";
  }
}
