package io.agserver.loadgen;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the kernel says about the server and about us: CPU time of a process (utime + stime from
 * {@code /proc/PID/stat}, all its threads, exact), its resident memory ({@code VmRSS}), and per-CPU
 * busy time from {@code /proc/stat} (softirq apart: loopback TCP work charged to no process).
 */
final class Proc {
  private Proc() {}

  /** Clock ticks per second of /proc times; 100 on every Linux this runs on. */
  static final double HZ = 100.0;

  static long cpuTicks(long pid) {
    long[] t = userSystemTicks(pid);
    return t == null ? -1 : t[0] + t[1];
  }

  /** {utime, stime} in ticks, or null when the process is gone. */
  static long[] userSystemTicks(long pid) {
    try {
      String s = Files.readString(Path.of("/proc/" + (pid <= 0 ? "self" : Long.toString(pid)) + "/stat"));
      String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
      // After "pid (comm) ": state is field 3 of stat(5), utime 14, stime 15.
      return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12])};
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * CPU time of a process in nanoseconds: the sum over its threads of the scheduler's run time
   * ({@code /proc/PID/task/TID/schedstat}, exact to the nanosecond, where a 10 ms tick of
   * {@code /proc/PID/stat} is too coarse for a process that works a few milliseconds a second);
   * the ticks of {@code /proc/PID/stat} when schedstat is not there; -1 when the process is gone.
   * Threads that ended are missing from the sum: meant for processes whose threads live as long
   * as they do (Redis, Node).
   */
  static long cpuNanos(long pid) {
    String[] tasks = new java.io.File("/proc/" + pid + "/task").list();
    if (tasks != null) {
      long sum = 0;
      boolean any = false;
      for (String t : tasks) {
        try {
          String s = Files.readString(Path.of("/proc/" + pid + "/task/" + t + "/schedstat"));
          sum += Long.parseLong(s.substring(0, s.indexOf(' ')));
          any = true;
        } catch (IOException | RuntimeException e) {
          // a thread that just ended, or no schedstat
        }
      }
      if (any) {
        return sum;
      }
    }
    long ticks = cpuTicks(pid);
    return ticks < 0 ? -1 : (long) (ticks * (1e9 / HZ));
  }

  /** VmRSS in bytes, or -1 when the process is gone. */
  static long rssBytes(long pid) {
    return statusKb(pid, "VmRSS:") * 1024;
  }

  static long statusKb(long pid, String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith(key)) {
          return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone
    }
    return -1;
  }

  /** Open file descriptors of a process (each connection is one), or -1. */
  static int openFds(long pid) {
    String[] fds = new java.io.File("/proc/" + (pid <= 0 ? "self" : Long.toString(pid)) + "/fd").list();
    return fds == null ? -1 : fds.length;
  }

  static boolean alive(long pid) {
    return Files.exists(Path.of("/proc/" + pid + "/stat"));
  }

  static String cmdName(long pid) {
    try {
      return Files.readString(Path.of("/proc/" + pid + "/comm")).trim();
    } catch (IOException e) {
      return "?";
    }
  }

  /** Whether the process is a HotSpot JVM (so jcmd can read its heap). */
  static boolean isJvm(long pid) {
    try {
      String cmd = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
      return cmdName(pid).equals("java") || cmd.startsWith("java ") || cmd.contains("/java ");
    } catch (IOException e) {
      return false;
    }
  }

  static String limit(String name) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith(name)) {
          String[] f = line.substring(name.length()).trim().split("\\s+");
          return f[0] + "/" + f[1];
        }
      }
    } catch (IOException e) {
      // not Linux
    }
    return "?";
  }

  /** Jiffies per CPU: [cpu][0] busy, [cpu][1] total, [cpu][2] softirq. */
  static long[][] cpuTimes() {
    List<long[]> rows = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
        if (line.startsWith("cpu") && Character.isDigit(line.charAt(3))) {
          String[] f = line.trim().split("\\s+");
          long user = Long.parseLong(f[1]);
          long nice = Long.parseLong(f[2]);
          long system = Long.parseLong(f[3]);
          long idle = Long.parseLong(f[4]);
          long iowait = Long.parseLong(f[5]);
          long irq = Long.parseLong(f[6]);
          long softirq = Long.parseLong(f[7]);
          long steal = f.length > 8 ? Long.parseLong(f[8]) : 0;
          long busy = user + nice + system + irq + softirq + steal;
          rows.add(new long[] {busy, busy + idle + iowait, softirq});
        }
      }
    } catch (IOException | RuntimeException e) {
      // leave empty
    }
    return rows.toArray(new long[0][]);
  }

  /**
   * A point in time for CPU accounting; two of them make a {@link #cpuBetween} report.
   * {@code sides}: the CPU nanoseconds ({@link #cpuNanos}) of other known processes of the
   * measurement by name (a cluster's second server and its broker), apart from "other processes".
   */
  record Mark(long nanos, long serverTicks, long selfTicks, long selfSystemTicks, long[][] cpus, Map<String, Long> sides) {}

  static Mark mark(long serverPid) {
    return mark(serverPid, Map.of());
  }

  /** {@code sidePids}: name → pid of the other processes of the measurement. */
  static Mark mark(long serverPid, Map<String, Long> sidePids) {
    long[] self = userSystemTicks(0);
    Map<String, Long> sides = new LinkedHashMap<>();
    sidePids.forEach((name, pid) -> sides.put(name, cpuNanos(pid)));
    return new Mark(System.nanoTime(), serverPid > 0 ? cpuTicks(serverPid) : -1,
        self == null ? 0 : self[0] + self[1], self == null ? 0 : self[1], cpuTimes(), sides);
  }

  /**
   * Cores used between two marks: the server's, the load generator's, softirq, each side
   * process's ({@code <name>Cores}), anything else on the machine (busy minus all these), and the
   * busy fraction of each CPU.
   */
  static Map<String, Object> cpuBetween(Mark a, Mark b) {
    Map<String, Object> m = new LinkedHashMap<>();
    double seconds = (b.nanos - a.nanos) / 1e9;
    m.put("seconds", Stats.round3(seconds));
    if (seconds <= 0) {
      return m;
    }
    double server = a.serverTicks >= 0 && b.serverTicks >= 0 ? (b.serverTicks - a.serverTicks) / HZ / seconds : Double.NaN;
    double self = (b.selfTicks - a.selfTicks) / HZ / seconds;
    double busy = 0;
    double softirq = 0;
    List<Double> perCpu = new ArrayList<>();
    int n = Math.min(a.cpus.length, b.cpus.length);
    for (int i = 0; i < n; i++) {
      long dBusy = b.cpus[i][0] - a.cpus[i][0];
      long dTotal = b.cpus[i][1] - a.cpus[i][1];
      busy += dBusy / HZ / seconds;
      softirq += (b.cpus[i][2] - a.cpus[i][2]) / HZ / seconds;
      perCpu.add(dTotal > 0 ? Stats.round3((double) dBusy / dTotal) : Double.NaN);
    }
    m.put("serverCores", Stats.round3(server));
    m.put("loadgenCores", Stats.round3(self));
    m.put("loadgenSystemCores", Stats.round3((b.selfSystemTicks - a.selfSystemTicks) / HZ / seconds));
    m.put("softirqCores", Stats.round3(softirq));
    double sides = 0;
    for (Map.Entry<String, Long> e : a.sides.entrySet()) {
      Long end = b.sides.get(e.getKey());
      double cores = e.getValue() >= 0 && end != null && end >= 0 ? (end - e.getValue()) / 1e9 / seconds : Double.NaN;
      m.put(e.getKey() + "Cores", Stats.round3(cores));
      sides += Double.isNaN(cores) ? 0 : cores;
    }
    double other = busy - softirq - self - (Double.isNaN(server) ? 0 : server) - sides;
    m.put("otherCores", Stats.round3(Math.max(0, other)));
    m.put("busyCores", Stats.round3(busy));
    m.put("perCpuBusy", perCpu);
    return m;
  }

  /** Busy cores of the whole machine over {@code ms}. */
  static double busyCores(long ms) throws InterruptedException {
    long[][] a = cpuTimes();
    long t0 = System.nanoTime();
    Thread.sleep(ms);
    long[][] b = cpuTimes();
    double seconds = (System.nanoTime() - t0) / 1e9;
    double busy = 0;
    for (int i = 0; i < Math.min(a.length, b.length); i++) {
      busy += (b[i][0] - a[i][0]) / HZ / seconds;
    }
    return busy;
  }
}
