package io.agserver.loadgen;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a server's CPU went, from an async-profiler profile in collapsed form (one line per
 * stack: frames root first, separated by ';', then the sample count): each sample is charged to
 * one of a few parts, so that a profile answers "is it our code, the container's, or the
 * kernel's?". Kernel frames are there only when the profiler could read them
 * ({@code perf_event_paranoid} at most 1).
 */
final class Breakdown {
  private Breakdown() {}

  enum Part {
    SOCKET_WRITES("socket writes (kernel: TCP send; on loopback the receiver's TCP processing too)"),
    SOCKET_READS("socket reads and epoll (kernel)"),
    THREAD_WAKEUPS("thread park and wake-up (kernel futex)"),
    OTHER_KERNEL("other kernel"),
    AGSERVER("agserver (io.agserver, with the JDK and Jackson code it calls)"),
    CONTAINER("container (Liberty, Payara: WebSocket, HTTP and TCP channels)"),
    JVM("JVM (JIT compilers, GC, runtime)"),
    OTHER_JAVA("other Java");

    final String label;

    Part(String label) {
      this.label = label;
    }
  }

  static int main(List<String> args) throws IOException {
    if (args.size() != 1) {
      System.err.println("usage: java -jar agserver-loadgen.jar breakdown PROFILE.collapsed");
      return 2;
    }
    Map<Part, Long> parts = of(Files.readAllLines(Path.of(args.get(0))));
    print(parts, System.out);
    return 0;
  }

  static Map<Part, Long> of(List<String> collapsed) {
    Map<Part, Long> parts = new EnumMap<>(Part.class);
    for (String line : collapsed) {
      int space = line.lastIndexOf(' ');
      if (space <= 0) {
        continue;
      }
      long samples;
      try {
        samples = Long.parseLong(line.substring(space + 1).trim());
      } catch (NumberFormatException e) {
        continue;
      }
      parts.merge(classify(line.substring(0, space).split(";")), samples, Long::sum);
    }
    return parts;
  }

  static Part classify(String[] frames) {
    boolean kernelLeaf = frames[frames.length - 1].endsWith("_[k]");
    for (String frame : frames) {
      String name = kernelName(frame);
      if (name.contains("writev") || name.equals("__GI_write") || name.equals("ksys_write")
          || name.equals("__send") || name.equals("__libc_send")) {
        return Part.SOCKET_WRITES;
      }
      if (name.equals("__GI_read") || name.equals("ksys_read") || name.startsWith("__GI_epoll")
          || name.startsWith("epoll_") || name.contains("_epoll_")) {
        return Part.SOCKET_READS;
      }
    }
    if (kernelLeaf) {
      for (String frame : frames) {
        if (frame.contains("futex")) {
          return Part.THREAD_WAKEUPS;
        }
      }
      return Part.OTHER_KERNEL;
    }
    boolean java = false;
    for (int i = frames.length - 1; i >= 0; i--) {
      String frame = frames[i];
      if (frame.startsWith("io/agserver/")) {
        return Part.AGSERVER;
      }
      if (frame.startsWith("com/ibm/") || frame.startsWith("io/openliberty/")
          || frame.startsWith("org/glassfish/") || frame.startsWith("fish/payara/")
          || frame.startsWith("com/sun/enterprise/")) {
        return Part.CONTAINER;
      }
      java |= frame.indexOf('/') > 0 && !frame.startsWith("[");
    }
    return java ? Part.OTHER_JAVA : Part.JVM;
  }

  private static String kernelName(String frame) {
    return frame.endsWith("_[k]") ? frame.substring(0, frame.length() - 4) : frame;
  }

  static void print(Map<Part, Long> parts, PrintStream out) {
    long total = parts.values().stream().mapToLong(Long::longValue).sum();
    out.printf(Locale.ROOT, "%,d samples%n", total);
    List<Part> order = new ArrayList<>(parts.keySet());
    order.sort((a, b) -> Long.compare(parts.get(b), parts.get(a)));
    for (Part part : order) {
      out.printf(Locale.ROOT, "%5.1f%%  %s%n", total == 0 ? 0.0 : 100.0 * parts.get(part) / total, part.label);
    }
  }
}
