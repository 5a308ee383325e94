package io.agserver.loadgen;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One bounded measurement. A scenario reads all its options in its constructor (so that unknown
 * options are refused before anything runs), then {@link #run} fills the result: {@code summary}
 * holds the headline figures the report reads, {@code cpu} the CPU use of server and load
 * generator over the measured phase, {@code details} everything else.
 */
abstract class Scenario {
  final Net net;
  final long serverPid;
  final double maxSeconds;
  final Map<String, Object> summary = new LinkedHashMap<>();
  final Map<String, Object> cpu = new LinkedHashMap<>();
  final Map<String, Object> details = new LinkedHashMap<>();
  final long openTimeoutMs;

  Scenario(Net net, long serverPid, Options o, double defaultMaxSeconds) {
    this.net = net;
    this.serverPid = serverPid;
    this.maxSeconds = o.dbl("max-seconds", defaultMaxSeconds);
    this.openTimeoutMs = o.lng("open-timeout-ms", 15_000);
  }

  abstract void run() throws Exception;

  /** Whether the result counts: a scenario sets false when what it measured is not valid. */
  boolean valid() {
    return true;
  }

  static void log(String fmt, Object... args) {
    System.err.printf("[loadgen %tT] %s%n", System.currentTimeMillis(), String.format(fmt, args));
  }

  void checkServer() {
    if (serverPid > 0 && !Proc.alive(serverPid)) {
      throw new IllegalStateException("the server process " + serverPid + " is gone");
    }
  }

  /**
   * Waits until the server uses less than {@code cores} over 250 ms (a warm-up's closes handled,
   * its collector done), at most {@code maxMs}; 1.5 s when the server's process is not known.
   */
  void awaitServerQuiet(double cores, long maxMs) throws InterruptedException {
    if (serverPid <= 0) {
      sleepMs(Math.min(maxMs, 1500));
      return;
    }
    long deadline = System.nanoTime() + maxMs * 1_000_000;
    while (System.nanoTime() < deadline) {
      long a = Proc.cpuTicks(serverPid);
      long t0 = System.nanoTime();
      sleepMs(250);
      long b = Proc.cpuTicks(serverPid);
      if (a < 0 || b < 0 || (b - a) / Proc.HZ / ((System.nanoTime() - t0) / 1e9) < cores) {
        return;
      }
    }
  }

  static void sleepMs(long ms) throws InterruptedException {
    if (ms > 0) {
      Thread.sleep(ms);
    }
  }
}
