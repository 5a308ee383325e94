package io.agserver.loadgen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The faults of {@code soak --faults}, at fixed points of the mix, on a thread of their own:
 * Redis restarted twice, the second instance killed with SIGKILL and started again, a group of
 * clients that stop reading, one client flooding beyond its rate limit. What happens to processes
 * is the fault command's business ({@code --fault-command}: bench/soak itself, which started
 * them): {@code redis-restart}, {@code kill 1}, {@code start 1} (which prints the new JVM's pid
 * once it answers). What happens to clients is the soak's ({@link Hooks}). Each fault opens a
 * phase of {@link FaultPhases}, so the report says what it did to everybody else.
 */
final class Faults {
  /** What the soak does for a fault, on the faults' thread (each hook hands work to the loop). */
  interface Hooks {
    void phase(String name);

    /** The server process of instance {@code i} is now {@code pid} (-1: none). */
    void pid(int i, long pid);

    /** {@code n} clients stop reading. */
    void stall(int n);

    /** The stalled clients read again; how each one ended, by outcome. */
    Map<String, Long> resume() throws InterruptedException;

    void flood(boolean on);

    /** The flooder's counts. */
    Map<String, Object> flooded();
  }

  private final String command;
  private final List<Net.Target> instances;
  private final double seconds;
  private final double warmupSeconds;
  private final int stalled;
  private final double stallSeconds;
  private final double floodSeconds;
  private final java.util.Set<String> only;
  private final Hooks hooks;
  private final Map<String, Object> report = new LinkedHashMap<>();
  private final List<String> log = new ArrayList<>();
  private volatile Throwable failure;
  private Thread thread;

  Faults(String command, List<Net.Target> instances, double seconds, double warmupSeconds, int stalled,
      double stallSeconds, double floodSeconds, java.util.Set<String> only, Hooks hooks) {
    this.command = command;
    this.instances = instances;
    this.seconds = seconds;
    this.warmupSeconds = warmupSeconds;
    this.stalled = stalled;
    this.stallSeconds = stallSeconds;
    this.floodSeconds = floodSeconds;
    this.only = only;
    this.hooks = hooks;
  }

  /** Starts the timeline; {@code mixStartNanos} is the mix's time zero. */
  void start(long mixStartNanos) {
    thread = new Thread(() -> {
      try {
        timeline(mixStartNanos);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Throwable t) {
        failure = t;
        Scenario.log("faults: %s", t);
      }
    }, "faults");
    thread.setDaemon(true);
    thread.start();
  }

  /** Waits for the timeline's end (it ends before the mix does); its report. */
  Map<String, Object> finish() throws InterruptedException {
    thread.join(TimeUnit.MINUTES.toMillis(5));
    if (thread.isAlive()) {
      thread.interrupt();
      note("the faults' timeline did not end");
    }
    if (failure != null) {
      note("the faults' timeline failed: " + failure);
    }
    report.put("log", log);
    return report;
  }

  /** The heap sample at the warm-up's end is taken: the baseline may begin (its full GC is over). */
  void baselineReady() {
    baseline.countDown();
  }

  private final java.util.concurrent.CountDownLatch baseline = new java.util.concurrent.CountDownLatch(1);

  private void timeline(long zero) throws Exception {
    sleepUntil(zero + (long) (warmupSeconds * 1e9));
    baseline.await(2, TimeUnit.MINUTES);
    hooks.phase("baseline");
    at(zero, 0.15);
    if (only.contains("redis")) {
      redisRestart(1);
    }
    at(zero, 0.30);
    if (only.contains("kill")) {
      killAndStart();
    }
    at(zero, 0.50);
    if (only.contains("redis")) {
      redisRestart(2);
    }
    at(zero, 0.65);
    if (only.contains("stall")) {
      stall();
    }
    at(zero, 0.82);
    if (only.contains("flood")) {
      flood();
    }
    at(zero, 0.90);
    hooks.phase("after the faults");
  }

  private void killAndStart() throws Exception {
    hooks.phase("instance 2 killed (SIGKILL)");
    note("kill instance 2: " + run("kill", "1"));
    hooks.pid(1, -1);
    String pid = run("start", "1");
    hooks.pid(1, Long.parseLong(pid.trim()));
    hooks.phase("instance 2 started again");
    note("instance 2 started again: pid " + pid.trim());
  }

  private void stall() throws Exception {
    Map<String, Double> before = scrape();
    hooks.phase(stalled + " clients stop reading");
    hooks.stall(stalled);
    note(stalled + " clients stop reading for " + (long) stallSeconds + " s");
    sleepUntil(System.nanoTime() + (long) (stallSeconds * 1e9));
    // What they had not read (the kernel's buffers: megabytes each) now goes through the load
    // generator's one thread, which delays everybody's figures for a moment: a phase of its own.
    hooks.phase("the stalled read their backlog");
    Map<String, Long> ends = hooks.resume();
    hooks.phase("stalled clients gone");
    Map<String, Double> after = scrape();
    Map<String, Object> stall = new LinkedHashMap<>();
    stall.put("clients", stalled);
    stall.put("seconds", stallSeconds);
    stall.put("ended", ends);
    stall.put("server", delta(before, after, "agserver_slow_consumers_total", "agserver_connections_closed_total"));
    report.put("stall", stall);
    note("stalled clients, how each ended: " + ends + "; the servers counted " + stall.get("server"));
  }

  private void flood() throws Exception {
    Map<String, Double> before = scrape();
    hooks.phase("a client floods");
    hooks.flood(true);
    sleepUntil(System.nanoTime() + (long) (floodSeconds * 1e9));
    hooks.flood(false);
    Map<String, Double> after = scrape();
    Map<String, Object> flood = new LinkedHashMap<>(hooks.flooded());
    flood.put("server", delta(before, after, "agserver_rate_limited_messages_total", "agserver_connections_closed_total"));
    report.put("flood", flood);
    note("flooder: " + flood);
  }

  private void redisRestart(int n) throws Exception {
    hooks.phase("Redis restarted (" + n + ")");
    note("Redis restart " + n + ": " + run("redis-restart"));
  }

  private void at(long zero, double fraction) throws InterruptedException {
    sleepUntil(zero + (long) (fraction * seconds * 1e9));
  }

  private static void sleepUntil(long nanos) throws InterruptedException {
    long ms = (nanos - System.nanoTime()) / 1_000_000;
    if (ms > 0) {
      Thread.sleep(ms);
    }
  }

  private void note(String what) {
    Scenario.log("faults: %s", what);
    log.add(what);
  }

  /** Runs the fault command; its stdout, trimmed. */
  private String run(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(command.split(" ")));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed: " + out);
    }
    return out;
  }

  // --- the servers' own counts ------------------------------------------------------------------

  /** Every instance's agserver series, summed over instances: name{labels} to value. */
  Map<String, Double> scrape() {
    Map<String, Double> sum = new TreeMap<>();
    for (Net.Target t : instances) {
      scrape(t).forEach((k, v) -> sum.merge(k, v, Double::sum));
    }
    return sum;
  }

  /** One instance's agserver series ({@link MetricsText}); empty when it does not answer. */
  Map<String, Double> scrape(Net.Target t) {
    String url = "http://" + t.hostHeader() + "/metrics";
    Map<String, Double> m = MetricsText.scrape(url);
    if (m.isEmpty()) {
      note("no metrics from " + url);
    }
    return m;
  }

  /** What the series of the given names grew by from {@code a} to {@code b}. */
  static Map<String, Long> delta(Map<String, Double> a, Map<String, Double> b, String... names) {
    Map<String, Long> d = new TreeMap<>();
    for (String n : names) {
      d.putAll(MetricsText.delta(a, b, n));
    }
    return d;
  }
}
