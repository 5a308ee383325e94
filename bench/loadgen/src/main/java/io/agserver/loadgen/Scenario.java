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

  static void sleepMs(long ms) throws InterruptedException {
    if (ms > 0) {
      Thread.sleep(ms);
    }
  }
}
