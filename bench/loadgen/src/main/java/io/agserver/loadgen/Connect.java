package io.agserver.loadgen;

import java.util.ArrayList;
import java.util.List;

/**
 * Handshake rate: warm-up rounds of W connections (opened, then closed) for S seconds, then N
 * connections with K on their way at once, each TCP connect + WebSocket upgrade +
 * {@code #handshake}. Handshakes per second = N opened / (first start to last answer); latency
 * from connect start to the answer.
 *
 * <p>Why a minute of warm-up: a server is measured at its steady state, not while its JIT still
 * compiles the code under load. A JVM server on one core spends most of its first minute of
 * handshakes compiling (measured on Liberty: after 15,000 handshakes the C2 compiler still took
 * 73% of the core, and the rate kept rising for 60 s), while Node's V8 settles within seconds.
 * Every server gets the same warm-up; each round's rate is kept in the result.
 */
final class Connect extends Scenario {
  private final int warmup;
  private final int count;
  private final int inFlight;
  private final double warmupSeconds;

  Connect(Net net, long pid, Options o) {
    super(net, pid, o, 240);
    warmup = o.integer("warmup", 5000);
    count = o.integer("connections", 10_000);
    inFlight = o.integer("in-flight", 100);
    warmupSeconds = o.dbl("warmup-seconds", 60);
  }

  @Override
  void run() throws Exception {
    Client.Listener none = new Client.Listener() {};
    int opened = 0;
    int failed = 0;
    int stuck = 0;
    List<Long> rates = new ArrayList<>();
    long warmupEnd = System.nanoTime() + (long) (Math.min(warmupSeconds, maxSeconds / 2) * 1e9);
    while (warmup > 0 && warmupSeconds > 0) {
      Opener w = new Opener(net, none, opened, warmup, inFlight, openTimeoutMs).run(maxSeconds / 3);
      opened += w.open.size();
      failed += w.failed;
      stuck += Opener.closeAll(net, w.open, 20);
      rates.add(Math.round(w.rate()));
      log("warm-up round %d: %d connections, %.0f/s", rates.size(), warmup, w.rate());
      // The closes handled and the collector done before the next round or the measurement.
      awaitServerQuiet(0.1, 10_000);
      if (System.nanoTime() > warmupEnd) {
        break;
      }
    }
    details.put("warmupOpened", opened);
    details.put("warmupFailed", failed);
    details.put("warmupNotClosed", stuck);
    details.put("warmupPerSec", rates);
    checkServer();
    log("measured: %d connections, %d in flight", count, inFlight);
    Proc.Mark a = Proc.mark(serverPid);
    Opener m = new Opener(net, none, opened, count, inFlight, openTimeoutMs).run(maxSeconds / 2);
    Proc.Mark b = Proc.mark(serverPid);
    cpu.putAll(Proc.cpuBetween(a, b));
    List<Client> open = m.open;
    summary.put("handshakesPerSec", Math.round(m.rate()));
    summary.put("p50Ms", Stats.ms(m.latency, 50));
    summary.put("p99Ms", Stats.ms(m.latency, 99));
    summary.put("opened", open.size());
    summary.put("failed", m.failed);
    details.put("latency", Stats.summary(m.latency));
    details.put("failures", m.failures);
    details.put("seconds", Stats.round3((m.lastOpenNanos - m.firstStartNanos) / 1e9));
    details.put("notClosed", Opener.closeAll(net, open, 30));
  }
}
