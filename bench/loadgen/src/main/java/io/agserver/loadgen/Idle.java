package io.agserver.loadgen;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Idle connections: what each one costs the server in memory, and whether the server keeps them
 * (answering its pings all along). {@code idle-memory}: N = 5,000, held 12 s. {@code scale}:
 * N = 20,000 (from several loopback sources), held at least two ping intervals, plus the JVM's
 * live heap per connection through jcmd when the server is a JVM.
 */
final class Idle extends Scenario {
  private final boolean scale;
  private final int count;
  private final int inFlight;
  private final double holdSeconds;
  private final String heapMode;
  private final Map<String, Integer> lostReasons = new TreeMap<>();
  private int lost;

  Idle(Net net, long pid, Options o, boolean scale) {
    super(net, pid, o, scale ? 240 : 120);
    this.scale = scale;
    count = o.integer("connections", scale ? 20_000 : 5000);
    inFlight = o.integer("in-flight", 100);
    holdSeconds = o.dbl("hold-seconds", scale ? 20 : 12);
    heapMode = o.str("heap", scale ? "auto" : "false");
  }

  @Override
  void run() throws Exception {
    boolean jvm = serverPid > 0 && Proc.isJvm(serverPid);
    boolean heap = heapMode.equals("true") || (heapMode.equals("auto") && jvm);
    details.put("serverIsJvm", jvm);
    List<String> heapRaw = new ArrayList<>();
    long heapBefore = -1;
    if (heap) {
      log("heap before: jcmd %d GC.run, GC.heap_info", serverPid);
      heapBefore = Heap.usedAfterGc(serverPid, heapRaw);
      sleepMs(1000);
    }
    long rssBefore = Proc.rssBytes(serverPid);
    details.put("serverOpenFdsBefore", Proc.openFds(serverPid));

    Client.Listener listener = new Client.Listener() {
      @Override
      public void lost(Client c) {
        lost++;
        lostReasons.merge(c.failure, 1, Integer::sum);
      }
    };
    log("opening %d connections, %d in flight", count, inFlight);
    Proc.Mark a = Proc.mark(serverPid);
    Opener o = new Opener(net, listener, 0, count, inFlight, openTimeoutMs).run(maxSeconds / 2);
    Proc.Mark b = Proc.mark(serverPid);
    log("opened %d, failed %d %s; holding %.0f s", o.open.size(), o.failed, o.failures, holdSeconds);
    long holdEnd = System.nanoTime() + (long) (holdSeconds * 1e9);
    while (System.nanoTime() < holdEnd) {
      sleepMs(Math.min(5000, Math.max(1, (holdEnd - System.nanoTime()) / 1_000_000)));
      checkServer();
      int[] s = net.call(() -> counts(o.open));
      log("alive %d, with >=1 ping %d", s[0], s[1]);
    }
    Proc.Mark c = Proc.mark(serverPid);
    long rssAfter = Proc.rssBytes(serverPid);
    details.put("serverOpenFdsHolding", Proc.openFds(serverPid));
    details.put("loadgenOpenFdsHolding", Proc.openFds(0));
    int[] s = net.call(() -> counts(o.open));
    long heapAfter = -1;
    if (heap) {
      log("heap after: jcmd GC.run, GC.heap_info");
      heapAfter = Heap.usedAfterGc(serverPid, heapRaw);
    }
    int opened = o.open.size();
    int alive = s[0];

    summary.put("connections", count);
    summary.put("opened", opened);
    summary.put("failed", o.failed);
    summary.put("aliveAtEnd", alive);
    summary.put("pinged", s[1]);
    summary.put("pingedTwice", s[2]);
    summary.put("bytesPerConn", opened > 0 ? Math.round((double) (rssAfter - rssBefore) / opened) : null);
    summary.put("rssBeforeMb", Stats.round1(rssBefore / 1048576.0));
    summary.put("rssAfterMb", Stats.round1(rssAfter / 1048576.0));
    if (heap) {
      summary.put("heapBytesPerConn", alive > 0 && heapBefore >= 0 && heapAfter >= 0
          ? Math.round((double) (heapAfter - heapBefore) / alive) : null);
      summary.put("heapBeforeMb", Stats.round1(heapBefore / 1048576.0));
      summary.put("heapAfterMb", Stats.round1(heapAfter / 1048576.0));
      details.put("heapInfo", heapRaw);
    }
    summary.put("openPerSec", Math.round(o.rate()));
    cpu.putAll(Proc.cpuBetween(b, c));
    details.put("openCpu", Proc.cpuBetween(a, b));
    details.put("openLatency", Stats.summary(o.latency));
    details.put("openFailures", o.failures);
    details.put("lost", lost);
    details.put("lostReasons", lostReasons);
    details.put("pingsAnswered", s[3]);
    details.put("holdSeconds", holdSeconds);
    details.put("received", net.call(() -> Client.frameCounts(o.open)));
    log("alive %d of %d, pinged %d; closing", alive, opened, s[1]);
    details.put("notClosed", Opener.closeAll(net, o.open, 60));
  }

  /** alive, with >=1 ping, with >=2 pings, pings in all, bad frames. On the event loop. */
  private static int[] counts(List<Client> clients) {
    int[] r = new int[5];
    for (Client c : clients) {
      if (c.isOpen()) {
        r[0]++;
        if (c.pings >= 1) {
          r[1]++;
        }
        if (c.pings >= 2) {
          r[2]++;
        }
      }
      r[3] += c.pings;
      r[4] += c.badFrames;
    }
    return r;
  }
}
