package io.agserver.loadgen;

import java.util.List;

/**
 * Handshake rate: a warm-up of W connections (opened, then closed), then N connections with K on
 * their way at once, each TCP connect + WebSocket upgrade + {@code #handshake}. Handshakes per
 * second = N opened / (first start to last answer); latency from connect start to the answer.
 */
final class Connect extends Scenario {
  private final int warmup;
  private final int count;
  private final int inFlight;

  Connect(Net net, long pid, Options o) {
    super(net, pid, o, 180);
    warmup = o.integer("warmup", 2000);
    count = o.integer("connections", 5000);
    inFlight = o.integer("in-flight", 100);
  }

  @Override
  void run() throws Exception {
    Client.Listener none = new Client.Listener() {};
    if (warmup > 0) {
      log("warm-up: %d connections", warmup);
      Opener w = new Opener(net, none, 0, warmup, inFlight, openTimeoutMs).run(maxSeconds / 3);
      details.put("warmupOpened", w.open.size());
      details.put("warmupFailed", w.failed);
      details.put("warmupPerSec", Math.round(w.rate()));
      int stuck = Opener.closeAll(net, w.open, 20);
      details.put("warmupNotClosed", stuck);
      sleepMs(1500);
    }
    checkServer();
    log("measured: %d connections, %d in flight", count, inFlight);
    Proc.Mark a = Proc.mark(serverPid);
    Opener m = new Opener(net, none, warmup, count, inFlight, openTimeoutMs).run(maxSeconds / 2);
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
