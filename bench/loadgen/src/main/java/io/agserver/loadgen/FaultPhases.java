package io.agserver.loadgen;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * The soak's timeline cut at each fault: from one fault to the next, what the clients that were
 * not part of any fault saw, their RPCs' round trips, their deliveries' latency (publish sent to
 * delivery received, both in this process), their errors by kind, and the plain-channel
 * publications sent in that phase that an open subscription never got. One phase is open at a
 * time; a new one closes the last.
 *
 * <p>Confined to the load generator's event loop.
 */
final class FaultPhases {
  /** One phase: from {@code startNanos} to the next phase's start. */
  static final class Phase {
    final String name;
    final long startNanos;
    final Histogram rpc = Stats.histogram();
    final Histogram delivery = Stats.histogram();
    final Map<String, Long> errors = new TreeMap<>();
    long lost;
    long endNanos = -1;

    Phase(String name, long startNanos) {
      this.name = name;
      this.startNanos = startNanos;
    }
  }

  private final long originNanos;
  private final List<Phase> phases = new ArrayList<>();
  /** The slowest RPC or delivery of each second since the origin, in µs: when a phase's p99 moved. */
  private long[] slowestBySecond = new long[1024];

  FaultPhases(String first, long originNanos) {
    this.originNanos = originNanos;
    phases.add(new Phase(first, originNanos));
  }

  void begin(String name, long nanos) {
    current().endNanos = nanos;
    phases.add(new Phase(name, nanos));
  }

  Phase current() {
    return phases.get(phases.size() - 1);
  }

  void rpc(long nanos) {
    record(current().rpc, nanos);
  }

  void delivery(long nanos) {
    record(current().delivery, nanos);
  }

  void error(String what) {
    current().errors.merge(what, 1L, Long::sum);
  }

  /** A plain-channel publication sent at {@code sentNanos} that a subscription never received. */
  void lost(long sentNanos) {
    Phase in = phases.get(0);
    for (Phase p : phases) {
      if (p.startNanos <= sentNanos) {
        in = p;
      }
    }
    in.lost++;
  }

  private void record(Histogram h, long nanos) {
    long micros = Math.max(1, Math.min(nanos / 1000, h.getHighestTrackableValue()));
    h.recordValue(micros);
    int second = (int) ((System.nanoTime() - originNanos) / 1_000_000_000L);
    if (second >= 0) {
      if (second >= slowestBySecond.length) {
        slowestBySecond = java.util.Arrays.copyOf(slowestBySecond, Math.max(second + 1, 2 * slowestBySecond.length));
      }
      slowestBySecond[second] = Math.max(slowestBySecond[second], micros);
    }
  }

  /** The slowest of each second, in ms, up to {@code endNanos}. */
  List<Double> slowestBySecond(long endNanos) {
    int n = (int) Math.min(slowestBySecond.length, (endNanos - originNanos) / 1_000_000_000L + 1);
    List<Double> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(Stats.round1(slowestBySecond[i] / 1000.0));
    }
    return out;
  }

  /** One map per phase, for the result file. */
  List<Map<String, Object>> result(long endNanos) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Phase p : phases) {
      Map<String, Object> m = new LinkedHashMap<>();
      long end = p.endNanos < 0 ? endNanos : p.endNanos;
      m.put("phase", p.name);
      m.put("fromS", Stats.round1((p.startNanos - originNanos) / 1e9));
      m.put("toS", Stats.round1((end - originNanos) / 1e9));
      m.put("rpcs", p.rpc.getTotalCount());
      m.put("rpcP50Ms", Stats.ms(p.rpc, 50));
      m.put("rpcP99Ms", Stats.ms(p.rpc, 99));
      m.put("rpcMaxMs", p.rpc.getTotalCount() == 0 ? Double.NaN : Stats.round3(p.rpc.getMaxValue() / 1000.0));
      m.put("deliveries", p.delivery.getTotalCount());
      m.put("deliveryP50Ms", Stats.ms(p.delivery, 50));
      m.put("deliveryP99Ms", Stats.ms(p.delivery, 99));
      m.put("deliveryMaxMs",
          p.delivery.getTotalCount() == 0 ? Double.NaN : Stats.round3(p.delivery.getMaxValue() / 1000.0));
      m.put("plainLost", p.lost);
      m.put("errors", new TreeMap<>(p.errors));
      out.add(m);
    }
    return out;
  }

  /** The table the soak prints: one line per phase. */
  static List<String> table(List<Map<String, Object>> phases) {
    List<String> lines = new ArrayList<>();
    lines.add(String.format(Locale.ROOT, "%-28s %9s %8s %8s %8s %8s %8s %8s %5s  %s", "phase (the others)", "s",
        "rpc p50", "p99", "max", "dlv p50", "p99", "max", "lost", "errors"));
    for (Map<String, Object> p : phases) {
      lines.add(String.format(Locale.ROOT, "%-28s %4.0f-%-4.0f %6.1fms %6.1fms %6.0fms %6.1fms %6.1fms %6.0fms %5d  %s",
          p.get("phase"), (double) p.get("fromS"), (double) p.get("toS"), (double) p.get("rpcP50Ms"),
          (double) p.get("rpcP99Ms"), (double) p.get("rpcMaxMs"), (double) p.get("deliveryP50Ms"),
          (double) p.get("deliveryP99Ms"), (double) p.get("deliveryMaxMs"), (long) p.get("plainLost"), p.get("errors")));
    }
    return lines;
  }
}
