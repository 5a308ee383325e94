package io.agserver.loadgen;

import io.netty.buffer.ByteBuf;

/**
 * Finds the SocketCluster packets in one text frame without building any object: a frame holds
 * one packet {@code {...}} or several as a JSON array {@code [{...},{...}]}, and of each packet
 * only the top-level keys that matter are located: {@code rid} (parsed), {@code error},
 * {@code data} and {@code event} (as index ranges into the frame). Values are skipped by
 * bracket depth, strings by their closing quote, so key order and nesting do not matter.
 */
final class Packets {
  private Packets() {}

  interface Sink {
    /** A response: {@code dataStart} is -1 when it has no data; {@code error} is a non-null error. */
    void reply(long rid, boolean error, ByteBuf frame, int dataStart, int dataEnd);

    /** An event: name without its quotes, data as a range (-1 when absent). */
    void event(ByteBuf frame, int nameStart, int nameEnd, int dataStart, int dataEnd);
  }

  /** Packets found, or -1 when the frame is not a packet or an array of packets. */
  static int scan(ByteBuf b, Sink sink) {
    int end = b.writerIndex();
    int i = skipWs(b, b.readerIndex(), end);
    if (i >= end) {
      return -1;
    }
    byte c = b.getByte(i);
    if (c == '{') {
      i = packet(b, i, end, sink);
      return i < 0 || skipWs(b, i, end) != end ? -1 : 1;
    }
    if (c != '[') {
      return -1;
    }
    int n = 0;
    i++;
    while (true) {
      i = skipWs(b, i, end);
      if (i >= end) {
        return -1;
      }
      c = b.getByte(i);
      if (c == ']') {
        return skipWs(b, i + 1, end) == end ? n : -1;
      }
      if (c == ',' && n > 0) {
        i++;
        continue;
      }
      if (c != '{') {
        return -1;
      }
      i = packet(b, i, end, sink);
      if (i < 0) {
        return -1;
      }
      n++;
    }
  }

  /** One packet object starting at {@code i}; returns the index after its closing brace, or -1. */
  private static int packet(ByteBuf b, int i, int end, Sink sink) {
    long rid = -1;
    boolean hasRid = false;
    boolean error = false;
    int dataStart = -1;
    int dataEnd = -1;
    int nameStart = -1;
    int nameEnd = -1;
    i++;
    while (true) {
      i = skipWs(b, i, end);
      if (i >= end) {
        return -1;
      }
      byte c = b.getByte(i);
      if (c == '}') {
        i++;
        break;
      }
      if (c == ',') {
        i++;
        continue;
      }
      if (c != '"') {
        return -1;
      }
      int keyStart = i + 1;
      int keyEnd = stringEnd(b, i, end);
      if (keyEnd < 0) {
        return -1;
      }
      i = skipWs(b, keyEnd + 1, end);
      if (i >= end || b.getByte(i) != ':') {
        return -1;
      }
      int v = skipWs(b, i + 1, end);
      int ve = valueEnd(b, v, end);
      if (ve < 0) {
        return -1;
      }
      switch (keyEnd - keyStart) {
        case 3:
          if (is(b, keyStart, RID)) {
            hasRid = true;
            rid = parseLong(b, v, ve);
          }
          break;
        case 4:
          if (is(b, keyStart, DATA)) {
            dataStart = v;
            dataEnd = ve;
          }
          break;
        case 5:
          if (is(b, keyStart, ERROR)) {
            error = !is(b, v, NULL);
          } else if (is(b, keyStart, EVENT) && b.getByte(v) == '"') {
            nameStart = v + 1;
            nameEnd = ve - 1;
          }
          break;
        default:
          break;
      }
      i = ve;
    }
    if (hasRid) {
      sink.reply(rid, error, b, dataStart, dataEnd);
    } else if (nameStart >= 0) {
      sink.event(b, nameStart, nameEnd, dataStart, dataEnd);
    }
    return i;
  }

  private static final byte[] RID = {'r', 'i', 'd'};
  private static final byte[] DATA = {'d', 'a', 't', 'a'};
  private static final byte[] ERROR = {'e', 'r', 'r', 'o', 'r'};
  private static final byte[] EVENT = {'e', 'v', 'e', 'n', 't'};
  private static final byte[] NULL = {'n', 'u', 'l', 'l'};

  static boolean is(ByteBuf b, int at, byte[] word) {
    if (at < 0 || at + word.length > b.writerIndex()) {
      return false;
    }
    for (int k = 0; k < word.length; k++) {
      if (b.getByte(at + k) != word[k]) {
        return false;
      }
    }
    return true;
  }

  /** Index just past the value starting at {@code i}, or -1 if it does not end in the frame. */
  static int valueEnd(ByteBuf b, int i, int end) {
    if (i >= end) {
      return -1;
    }
    byte c = b.getByte(i);
    if (c == '"') {
      int q = stringEnd(b, i, end);
      return q < 0 ? -1 : q + 1;
    }
    if (c == '{' || c == '[') {
      int depth = 0;
      for (int j = i; j < end; j++) {
        byte d = b.getByte(j);
        if (d == '"') {
          j = stringEnd(b, j, end);
          if (j < 0) {
            return -1;
          }
        } else if (d == '{' || d == '[') {
          depth++;
        } else if (d == '}' || d == ']') {
          if (--depth == 0) {
            return j + 1;
          }
        }
      }
      return -1;
    }
    int j = i;
    while (j < end) {
      byte d = b.getByte(j);
      if (d == ',' || d == '}' || d == ']' || d == ' ' || d == '\n' || d == '\r' || d == '\t') {
        break;
      }
      j++;
    }
    return j == i ? -1 : j;
  }

  /** Index of the quote closing the string whose opening quote is at {@code i}, or -1. */
  static int stringEnd(ByteBuf b, int i, int end) {
    int from = i + 1;
    while (from < end) {
      int q = b.indexOf(from, end, (byte) '"');
      if (q < 0) {
        return -1;
      }
      int backslashes = 0;
      for (int k = q - 1; k > i && b.getByte(k) == '\\'; k--) {
        backslashes++;
      }
      if ((backslashes & 1) == 0) {
        return q;
      }
      from = q + 1;
    }
    return -1;
  }

  static int skipWs(ByteBuf b, int i, int end) {
    while (i < end) {
      byte c = b.getByte(i);
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
        break;
      }
      i++;
    }
    return i;
  }

  /** An integer in [from, to), or Long.MIN_VALUE when it is not one. */
  static long parseLong(ByteBuf b, int from, int to) {
    if (from >= to) {
      return Long.MIN_VALUE;
    }
    boolean neg = b.getByte(from) == '-';
    int i = neg ? from + 1 : from;
    if (i >= to) {
      return Long.MIN_VALUE;
    }
    long v = 0;
    for (; i < to; i++) {
      int d = b.getByte(i) - '0';
      if (d < 0 || d > 9) {
        return Long.MIN_VALUE;
      }
      v = v * 10 + d;
    }
    return neg ? -v : v;
  }

  /**
   * The integer after {@code marker} (a key with its quotes and colon, e.g. {@code "lg_t":})
   * inside [from, to), or Long.MIN_VALUE when the marker is absent.
   */
  static long numberAfter(ByteBuf b, int from, int to, byte[] marker) {
    int last = to - marker.length;
    byte first = marker[0];
    for (int i = from; i <= last; i++) {
      i = b.indexOf(i, last + 1, first);
      if (i < 0) {
        return Long.MIN_VALUE;
      }
      if (is(b, i, marker)) {
        int v = skipWs(b, i + marker.length, to);
        int e = v;
        while (e < to) {
          byte c = b.getByte(e);
          if ((c < '0' || c > '9') && c != '-') {
            break;
          }
          e++;
        }
        return parseLong(b, v, e);
      }
    }
    return Long.MIN_VALUE;
  }

  /** Appends a decimal integer without making a String. */
  static void writeLong(ByteBuf out, long v) {
    if (v < 0) {
      if (v == Long.MIN_VALUE) {
        out.writeCharSequence(Long.toString(v), java.nio.charset.StandardCharsets.US_ASCII);
        return;
      }
      out.writeByte('-');
      v = -v;
    }
    if (v < 10) {
      out.writeByte((int) ('0' + v));
      return;
    }
    int digits = 0;
    for (long t = v; t > 0; t /= 10) {
      digits++;
    }
    int at = out.writerIndex() + digits;
    out.ensureWritable(digits);
    for (int k = 1; k <= digits; k++) {
      out.setByte(at - k, (int) ('0' + v % 10));
      v /= 10;
    }
    out.writerIndex(at);
  }
}
