package io.agserver.loadgen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The live heap of a server JVM, through {@code jcmd}: {@code GC.run} (a full collection, so only
 * what is reachable stays), then {@code GC.heap_info}, whose "used" figures are added up over the
 * heap's spaces (serial, parallel, G1, Z and Shenandoah print them differently).
 */
final class Heap {
  private Heap() {}

  private static final Pattern TOTAL_USED = Pattern.compile("total\\s+(\\d+)K,\\s+used\\s+(\\d+)K");
  private static final Pattern Z_USED = Pattern.compile("ZHeap\\s+used\\s+(\\d+)M");
  private static final Pattern SHEN_USED = Pattern.compile("(\\d+)([KMG])\\s+used");

  /** Used heap in bytes after a full GC; the raw jcmd output goes into {@code raw}. */
  static long usedAfterGc(long pid, List<String> raw) throws IOException, InterruptedException {
    jcmd(pid, "GC.run");
    String info = jcmd(pid, "GC.heap_info");
    raw.add(info.strip());
    return parseUsed(info);
  }

  static long parseUsed(String info) {
    long usedKb = 0;
    boolean found = false;
    boolean shenandoah = info.contains("Shenandoah");
    for (String line : info.split("\n")) {
      if (line.contains("Metaspace") || line.contains("class space")) {
        continue;
      }
      Matcher m = TOTAL_USED.matcher(line);
      if (m.find()) {
        usedKb += Long.parseLong(m.group(2));
        found = true;
        continue;
      }
      m = Z_USED.matcher(line);
      if (m.find()) {
        usedKb += Long.parseLong(m.group(1)) * 1024;
        found = true;
        continue;
      }
      if (shenandoah) {
        m = SHEN_USED.matcher(line);
        if (m.find()) {
          long v = Long.parseLong(m.group(1));
          usedKb += switch (m.group(2)) {
            case "G" -> v * 1024 * 1024;
            case "M" -> v * 1024;
            default -> v;
          };
          found = true;
        }
      }
    }
    return found ? usedKb * 1024 : -1;
  }

  static String jcmd(long pid, String command) throws IOException, InterruptedException {
    String exe = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    List<String> cmd = new ArrayList<>(List.of(exe, Long.toString(pid), command));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out;
    try (var in = p.getInputStream()) {
      out = in.readAllBytes();
    }
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("jcmd " + command + " did not finish");
    }
    String text = new String(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException("jcmd " + command + " failed: " + text.strip());
    }
    return text;
  }
}
