package io.agserver.loadgen;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A HotSpot JVM's performance counters, read from the file it shares them in
 * ({@code /tmp/hsperfdata_USER/PID}, what {@code jstat} reads): no attach, no safepoint, no process
 * started, so a sample taken while latency is measured does not disturb it. The heap in use is the
 * sum of the {@code sun.gc.generation.N.space.M.used} counters, as {@code jstat -gc} adds them up
 * (eden is updated as the JVM takes new regions, the old generation at each collection).
 */
final class PerfData {
  private PerfData() {}

  private static final int MAGIC = 0xcafec0c0;

  /** The counters file of a JVM, or null (another JVM, or one started with -XX:+PerfDisableSharedMem). */
  static Path file(long pid) {
    Path tmp = Path.of("/tmp"); // HotSpot's on Linux, whatever java.io.tmpdir says
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, "hsperfdata_*")) {
      for (Path d : dirs) {
        Path f = d.resolve(Long.toString(pid));
        if (Files.isRegularFile(f)) {
          return f;
        }
      }
    } catch (IOException e) {
      // no such directory
    }
    return null;
  }

  /** Every long counter of the file's contents, by name. */
  static Map<String, Long> longs(byte[] data) {
    Map<String, Long> out = new LinkedHashMap<>();
    ByteBuffer b = ByteBuffer.wrap(data);
    if (data.length < 32 || b.order(ByteOrder.BIG_ENDIAN).getInt(0) != MAGIC) {
      return out;
    }
    b.order(data[4] == 0 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
    int at = b.getInt(24);
    int entries = b.getInt(28);
    for (int i = 0; i < entries && at > 0 && at + 20 <= data.length; i++) {
      int length = b.getInt(at);
      int nameOffset = b.getInt(at + 4);
      int vector = b.getInt(at + 8);
      byte type = b.get(at + 12);
      int dataOffset = b.getInt(at + 16);
      if (length <= 0) {
        break;
      }
      if (type == 'J' && vector == 0 && at + dataOffset + 8 <= data.length) {
        int s = at + nameOffset;
        int e = s;
        while (e < data.length && data[e] != 0) {
          e++;
        }
        out.put(new String(data, s, e - s, StandardCharsets.US_ASCII), b.getLong(at + dataOffset));
      }
      at += length;
    }
    return out;
  }

  /** The heap in use, in bytes, from the counters; -1 when there are none. */
  static long heapUsed(Map<String, Long> counters) {
    long used = 0;
    boolean found = false;
    for (Map.Entry<String, Long> e : counters.entrySet()) {
      String k = e.getKey();
      if (k.startsWith("sun.gc.generation.") && k.contains(".space.") && k.endsWith(".used")) {
        used += e.getValue();
        found = true;
      }
    }
    return found ? used : -1;
  }

  /** The heap in use of a JVM, in bytes, or -1. */
  static long heapUsed(Path file) {
    try {
      return file == null ? -1 : heapUsed(longs(Files.readAllBytes(file)));
    } catch (IOException e) {
      return -1;
    }
  }
}
