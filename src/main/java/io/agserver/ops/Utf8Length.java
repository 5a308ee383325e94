package io.agserver.ops;

/**
 * The UTF-8 length of a text without encoding it: what a text frame carries on the wire (its
 * payload, before any compression). One pass, no allocation; ASCII, nearly all SocketCluster
 * traffic, takes the first loop only.
 */
final class Utf8Length {

  private Utf8Length() {}

  static long of(CharSequence text) {
    int length = text.length();
    int i = 0;
    while (i < length && text.charAt(i) < 0x80) {
      i++;
    }
    if (i == length) {
      return length;
    }
    long bytes = i;
    for (; i < length; i++) {
      char c = text.charAt(i);
      if (c < 0x80) {
        bytes++;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(text.charAt(i + 1))) {
        bytes += 4;
        i++;
      } else if (Character.isSurrogate(c)) {
        bytes++; // a lone surrogate: Java's UTF-8 encoder writes '?' for it
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }
}
