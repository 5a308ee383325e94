package io.agserver.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Slow consumers at scale: {@code slow}. R readers and S clients that will stop reading are
 * connected from the start (so that the baseline has as many connections as the rest); a
 * publisher publishes to one channel at a fixed rate, each message carrying its sequence number
 * and send time.
 *
 * <ol>
 *   <li><b>alone</b>: only the readers are subscribed; their delivery latency is the baseline.
 *   <li><b>beside</b>: the S clients subscribe, and each stops reading once its subscription is
 *       acknowledged (Netty's autoRead off: the server's frames fill the kernel's buffers, then the
 *       server's own). They keep writing a pong ({@code ''}) every {@code --pong-ms}, so that the
 *       server's ping timeout does not end them first: what is measured is the outbound limits
 *       ({@code outboundBufferLimit}, {@code sendTimeout}). The readers' latency is measured until
 *       the server has cut every stalled client off (its end of the TCP connection left
 *       ESTABLISHED: {@link TcpStates}) or {@code --max-stall-seconds} pass.
 *   <li><b>resume</b>: publishing stops, the readers are drained, then the stalled clients read
 *       again (pings unanswered: see {@link Client#answerPings}) until their connection ends: a
 *       close frame and its code, or the TCP connection ended without one, or reset.
 * </ol>
 *
 * <p>Messages published between the phases (while a full GC is forced for the heap sample, and a
 * settling second after it) count for losses, not for latency; the latency of a delivery counts
 * in the phase its message was sent in. Every reader is owed every message acknowledged to the
 * publisher: a reader that misses one because its neighbours stalled is a loss. The server
 * process is sampled every {@code --sample-seconds}: RSS, heap in use without a collection
 * ({@link PerfData}), the kernel's TCP buffer memory, threads, and, when it serves them, agserver's
 * metrics ({@code --metrics-url}, default {@code http://HOST:PORT/metrics}).
 */
final class SlowConsumers extends Scenario implements Client.Listener {
  private static final byte[] SEQ = "\"lg_s\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TS = "\"lg_t\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PUBLISH = "#publish".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PREFIX =
      "{\"event\":\"#publish\",\"data\":{\"channel\":\"slow\",\"data\":{\"lg_s\":".getBytes(StandardCharsets.US_ASCII);
  private static final String SUBSCRIBE = "{\"event\":\"#subscribe\",\"data\":{\"channel\":\"slow\"},\"cid\":";

  private static final int READER = 1;
  private static final int STALLED = 2;
  private static final int PUBLISHER = 3;

  static final byte NONE = 0;
  static final byte WARMUP = 1;
  static final byte ALONE = 2;
  static final byte BESIDE = 3;

  private final int readerCount;
  private final int stalledCount;
  /**
   * The stalled clients' SO_RCVBUF (0: the kernel's). On loopback their receive buffers count
   * against the same kernel's TCP memory as the server's send buffers; a remote client's do not.
   */
  private final int stalledReceiveBuffer;
  private final double rate;
  private final byte[] pad;
  private final double warmupSeconds;
  private final double baselineSeconds;
  private final double maxStallSeconds;
  private final double resumeSeconds;
  private final double sampleSeconds;
  private final double windowSeconds;
  private final long pongMs;
  private final long checkMs;
  private final double maxRatio;
  private final int maxOutstanding;
  private final String metricsUrl;
  private final String lineFile;
  private final int serverPort;

  // Event-loop state.
  private List<Client> readers;
  private List<Client> stalled;
  private Client publisher;
  private int[] readerGot;
  private int[] readerLast;
  private long[] stopNanos;
  private long[] cutNanos;
  private long[] stalledGot;
  private final Map<String, Integer> ends = new TreeMap<>();
  private int readerSubscribed;
  private int subscribeErrors;
  private int stopped;
  private byte phase = NONE;
  private byte[] phaseOf = new byte[1 << 16];
  private int nextSeq;
  private long publishAcks;
  private long publishErrors;
  private long skipped;
  private long rateStartNanos;
  private long issued;
  private boolean publishing;
  private long readerDeliveries;
  private long duplicates;
  private long badDeliveries;
  private long lostConnections;
  private final Map<String, Integer> lostReasons = new TreeMap<>();
  private final Histogram[] latency = {Stats.histogram(), Stats.histogram(), Stats.histogram(), Stats.histogram()};
  private long besideStartNanos;
  private final List<Histogram> windows = new ArrayList<>();

  // The controller's.
  private final List<Map<String, Object>> samples = new ArrayList<>();
  private long startNanos;
  private Path perfFile;

  SlowConsumers(Net net, long pid, Options o) {
    super(net, pid, o, o.dbl("max-stall-seconds", 300) + 600);
    readerCount = o.integer("readers", 1000);
    stalledCount = o.integer("stalled", 1000);
    stalledReceiveBuffer = o.integer("stalled-rcvbuf", 0);
    rate = o.dbl("rate", 20);
    int payloadBytes = o.integer("payload-bytes", 1000);
    warmupSeconds = o.dbl("warmup-seconds", 20);
    baselineSeconds = o.dbl("baseline-seconds", 30);
    maxStallSeconds = o.dbl("max-stall-seconds", 300);
    resumeSeconds = o.dbl("resume-seconds", 60);
    sampleSeconds = o.dbl("sample-seconds", 5);
    windowSeconds = o.dbl("window-seconds", 5);
    pongMs = o.lng("pong-ms", 4000);
    checkMs = o.lng("check-ms", 500);
    maxRatio = o.dbl("max-ratio", 2);
    maxOutstanding = o.integer("max-unacked", 5000);
    serverPort = net.target.remote().getPort();
    metricsUrl = o.str("metrics-url", "http://" + net.target.hostHeader() + "/metrics");
    lineFile = o.str("line-file", "");
    if (readerCount < 1 || stalledCount < 0 || rate <= 0) {
      throw new IllegalArgumentException("need --readers >= 1, --stalled >= 0, --rate > 0");
    }
    // data = {"lg_s":N,"lg_t":N,"p":"..."}: about payload-bytes with typical numbers.
    pad = new byte[Math.max(0, payloadBytes - 48)];
    for (int i = 0; i < pad.length; i++) {
      pad[i] = (byte) ('a' + i % 26);
    }
  }

  // --- the run ----------------------------------------------------------------------------------

  @Override
  void run() throws Exception {
    log("slow: %d readers, %d to stall, %.0f msg/s of %d bytes", readerCount, stalledCount, rate, pad.length + 48);
    Opener r = new Opener(net, this, 0, readerCount, 100, openTimeoutMs).run(120);
    Opener s = new Opener(net, this, readerCount, stalledCount, 100, openTimeoutMs)
        .receiveBuffer(stalledReceiveBuffer).run(120);
    Opener p = new Opener(net, this, readerCount + stalledCount, 1, 1, openTimeoutMs).run(30);
    if (r.open.size() < readerCount || s.open.size() < stalledCount || p.open.size() < 1) {
      throw new IllegalStateException("opened " + r.open.size() + "/" + readerCount + " readers, " + s.open.size() + "/"
          + stalledCount + " to stall, " + p.open.size() + "/1 publisher: " + r.failures + s.failures + p.failures);
    }
    net.run(() -> {
      readers = new ArrayList<>(r.open);
      readers.sort((x, y) -> Integer.compare(x.id, y.id));
      stalled = new ArrayList<>(s.open);
      stalled.sort((x, y) -> Integer.compare(x.id, y.id));
      publisher = p.open.get(0);
      readerGot = new int[readerCount];
      readerLast = new int[readerCount];
      Arrays.fill(readerLast, -1);
      stopNanos = new long[stalledCount];
      cutNanos = new long[stalledCount];
      stalledGot = new long[stalledCount];
      publisher.tag = PUBLISHER;
      for (Client c : stalled) {
        c.tag = STALLED;
      }
      for (Client c : readers) {
        c.tag = READER;
        subscribe(c);
      }
    });
    awaitTrue(() -> readerSubscribed + subscribeErrors >= readerCount, 60);
    if (net.call(() -> readerSubscribed) < readerCount) {
      throw new IllegalStateException("readers subscribed: " + net.call(() -> readerSubscribed) + " of " + readerCount);
    }
    perfFile = serverPid > 0 ? PerfData.file(serverPid) : null;
    details.put("heapInUseSource", perfFile == null ? "none" : perfFile.toString());
    startNanos = System.nanoTime();
    Map<String, Double> m0 = MetricsText.scrape(metricsUrl);
    details.put("metricsAvailable", !m0.isEmpty());

    ScheduledFuture<?> ticker = net.loop.scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.MILLISECONDS);
    Map<String, Object> heap = new LinkedHashMap<>();
    details.put("heapAfterGcMb", heap);
    try {
      net.run(() -> {
        publishing = true;
        rateStartNanos = System.nanoTime();
      });
      setPhase(WARMUP);
      log("warm-up %.0f s", warmupSeconds);
      waitSampling("warmup", warmupSeconds, null);

      setPhase(ALONE);
      log("alone: %d readers for %.0f s", readerCount, baselineSeconds);
      Proc.Mark a0 = Proc.mark(serverPid);
      waitSampling("alone", baselineSeconds, null);
      Proc.Mark a1 = Proc.mark(serverPid);
      setPhase(NONE);
      details.put("cpuAlone", Proc.cpuBetween(a0, a1));
      heap.put("alone", heapAfterGc());
      Map<String, Double> m1 = MetricsText.scrape(metricsUrl);
      sleepMs(2000); // what the collection held up is delivered before the next phase starts

      log("beside: %d clients subscribe and stop reading", stalledCount);
      net.run(() -> {
        phase = BESIDE;
        besideStartNanos = System.nanoTime();
        for (Client c : stalled) {
          subscribe(c);
        }
      });
      Proc.Mark b0 = Proc.mark(serverPid);
      watchStalled();
      Proc.Mark b1 = Proc.mark(serverPid);
      setPhase(NONE);
      cpu.putAll(Proc.cpuBetween(b0, b1));
      net.run(() -> publishing = false);
      drain();
      heap.put("beside", heapAfterGc());
      Map<String, Double> m2 = MetricsText.scrape(metricsUrl);

      log("resume: the stalled clients read again");
      net.run(() -> {
        for (Client c : stalled) {
          c.answerPings = false;
          c.reading(true);
        }
      });
      long resumeStart = System.nanoTime();
      waitSampling("resume", resumeSeconds, () -> net.call(() -> {
        for (Client c : stalled) {
          if (c.isOpen()) {
            return false;
          }
        }
        return true;
      }));
      details.put("resumeSeconds", Stats.round3((System.nanoTime() - resumeStart) / 1e9));
      heap.put("end", heapAfterGc());
      Map<String, Double> m3 = MetricsText.scrape(metricsUrl);
      result(m1, m2, m3);
    } finally {
      ticker.cancel(false);
    }
    details.put("samples", samples);
    details.put("notClosed", Opener.closeAll(net, readers, 30) + Opener.closeAll(net, List.of(publisher), 10)
        + Opener.closeAll(net, net.call(() -> {
          List<Client> open = new ArrayList<>();
          for (Client c : stalled) {
            if (c.isOpen()) {
              open.add(c);
            }
          }
          return open;
        }), 10));
  }

  private void subscribe(Client c) {
    ByteBuf b = c.buffer(80);
    b.writeCharSequence(SUBSCRIBE, StandardCharsets.US_ASCII);
    Packets.writeLong(b, c.nextCid());
    b.writeByte('}');
    c.send(b);
    c.flush();
  }

  private void setPhase(byte p) {
    net.run(() -> phase = p);
  }

  /**
   * The stalled phase: every {@code --check-ms} the server's ends of the stalled connections are
   * looked at; every {@code --pong-ms}, right after a look, the ones still established get a pong.
   * Until every stalled client was cut off, or {@code --max-stall-seconds}.
   */
  private void watchStalled() throws Exception {
    long end = System.nanoTime() + (long) (maxStallSeconds * 1e9);
    long nextPong = 0;
    long nextSample = System.nanoTime();
    while (true) {
      checkServer();
      long now = System.nanoTime();
      Map<String, Integer> states = TcpStates.read(serverPort);
      boolean pong = now >= nextPong;
      if (pong) {
        nextPong = now + pongMs * 1_000_000;
      }
      int left = net.call(() -> observe(states, now, pong));
      if (now >= nextSample) {
        sample("beside");
        nextSample += (long) (sampleSeconds * 1e9);
      }
      if (left == 0 && net.call(() -> stopped) == stalledCount) {
        log("every stalled client was cut off");
        return;
      }
      if (now > end) {
        log("%d stalled clients not cut off after %.0f s", left, maxStallSeconds);
        return;
      }
      sleepMs(checkMs);
    }
  }

  /** Marks the stalled clients whose server end left ESTABLISHED; pongs the others. Event loop. */
  private int observe(Map<String, Integer> states, long now, boolean pong) {
    int left = 0;
    for (Client c : stalled) {
      int i = c.id - readerCount;
      if (cutNanos[i] != 0) {
        continue;
      }
      InetSocketAddress local = c.localAddress();
      Integer state = local == null ? null : states.get(TcpStates.key(local));
      if (stopNanos[i] != 0 && (state == null || state != TcpStates.ESTABLISHED || !c.isOpen())) {
        cutNanos[i] = now;
        continue;
      }
      left++;
      if (pong && stopNanos[i] != 0 && c.isOpen()) {
        c.send(Unpooled.EMPTY_BUFFER);
        c.flush();
      }
    }
    return left;
  }

  /** Sleeps {@code seconds}, sampling the server every {@code --sample-seconds}; ends early when {@code done}. */
  private void waitSampling(String name, double seconds, java.util.concurrent.Callable<Boolean> done) throws Exception {
    long end = System.nanoTime() + (long) (seconds * 1e9);
    long nextSample = System.nanoTime();
    while (System.nanoTime() < end) {
      checkServer();
      if (System.nanoTime() >= nextSample) {
        sample(name);
        nextSample += (long) (sampleSeconds * 1e9);
      }
      if (done != null && done.call()) {
        return;
      }
      sleepMs(Math.min(200, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
    }
  }

  private void awaitTrue(java.util.concurrent.Callable<Boolean> cond, double seconds) throws Exception {
    long end = System.nanoTime() + (long) (seconds * 1e9);
    while (System.nanoTime() < end && !net.call(cond)) {
      sleepMs(50);
    }
  }

  /** One sample of the server process (no collection forced). */
  private void sample(String name) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("atS", Stats.round1((System.nanoTime() - startNanos) / 1e9));
    m.put("phase", name);
    m.put("rssMb", mb(serverPid > 0 ? Proc.rssBytes(serverPid) : -1));
    m.put("heapInUseMb", mb(PerfData.heapUsed(perfFile)));
    m.put("kernelTcpMb", mb(TcpStates.kernelBufferBytes()));
    m.put("threads", serverPid > 0 ? Proc.statusKb(serverPid, "Threads:") : -1);
    Map<String, Double> metrics = MetricsText.scrape(metricsUrl);
    if (!metrics.isEmpty()) {
      m.put("waitingMb", mb(Math.round(MetricsText.sum(metrics, "agserver_outbound_waiting_characters"))));
      m.put("cutOffByServer", Math.round(MetricsText.sum(metrics, "agserver_slow_consumers_total")));
      m.put("connections", Math.round(MetricsText.sum(metrics, "agserver_connections")));
    }
    long[] c = net.call(() -> {
      long cut = 0;
      for (long n : cutNanos) {
        cut += n != 0 ? 1 : 0;
      }
      return new long[] {stopped, cut, nextSeq, readerDeliveries};
    });
    m.put("stopped", c[0]);
    m.put("cutOffSeen", c[1]);
    m.put("published", c[2]);
    m.put("readerDeliveries", c[3]);
    samples.add(m);
    log("%s %.0f s: RSS %s MB, heap in use %s MB, kernel TCP %s MB, %s threads, waiting %s MB; stopped %d, cut off %d "
        + "(server says %s)", name, m.get("atS"), m.get("rssMb"), m.get("heapInUseMb"), m.get("kernelTcpMb"),
        m.get("threads"), m.getOrDefault("waitingMb", "?"), c[0], c[1], m.getOrDefault("cutOffByServer", "?"));
  }

  private static double mb(long bytes) {
    return bytes < 0 ? Double.NaN : Stats.round1(bytes / 1048576.0);
  }

  private double heapAfterGc() {
    if (serverPid <= 0 || !Proc.isJvm(serverPid)) {
      return Double.NaN;
    }
    try {
      return mb(Heap.usedAfterGc(serverPid, new ArrayList<>()));
    } catch (Exception e) {
      log("heap after GC: %s", e);
      return Double.NaN;
    }
  }

  /** Until every message is acknowledged and every reader has it, or 10 s without progress. */
  private void drain() throws InterruptedException {
    long last = -1;
    long lastProgress = System.nanoTime();
    while (true) {
      long[] s = net.call(() -> new long[] {readerDeliveries, publishAcks, publishErrors, nextSeq});
      if (s[1] + s[2] >= s[3] && s[0] >= s[1] * readerCount) {
        return;
      }
      if (s[0] != last) {
        last = s[0];
        lastProgress = System.nanoTime();
      } else if (System.nanoTime() - lastProgress > 10_000_000_000L) {
        return;
      }
      sleepMs(50);
    }
  }

  // --- publishing (event loop) ------------------------------------------------------------------

  private void tick() {
    if (!publishing) {
      return;
    }
    long now = System.nanoTime();
    long due = (long) (rate * (now - rateStartNanos) / 1e9) - issued;
    if (due <= 0) {
      return;
    }
    long burst = Math.max(1, (long) (rate * 0.1));
    if (due > burst) {
      skipped += due - burst;
      issued += due - burst;
      due = burst;
    }
    for (long k = 0; k < due; k++) {
      if (!publisher.isOpen() || publisher.outstanding >= maxOutstanding || !publisher.writable()) {
        skipped += due - k;
        issued += due - k;
        break;
      }
      publish(now);
      issued++;
    }
    if (publisher.isOpen()) {
      publisher.flush();
    }
  }

  private void publish(long now) {
    int seq = nextSeq++;
    if (seq >= phaseOf.length) {
      phaseOf = Arrays.copyOf(phaseOf, phaseOf.length * 2);
    }
    phaseOf[seq] = phase;
    PubSub.sendTimedPublish(publisher, PREFIX, seq, pad);
  }

  // --- receiving (event loop) -------------------------------------------------------------------

  @Override
  public void reply(Client c, long rid, boolean error, ByteBuf frame, int dataStart, int dataEnd) {
    switch (c.tag) {
      case PUBLISHER -> {
        c.outstanding--;
        if (error) {
          publishErrors++;
        } else {
          publishAcks++;
        }
      }
      case READER -> {
        if (error) {
          subscribeErrors++;
        } else {
          readerSubscribed++;
        }
      }
      case STALLED -> {
        if (error) {
          subscribeErrors++;
        } else if (stopNanos[c.id - readerCount] == 0) {
          c.reading(false);
          stopNanos[c.id - readerCount] = System.nanoTime();
          stopped++;
        }
      }
      default -> { }
    }
  }

  @Override
  public void event(Client c, ByteBuf frame, int nameStart, int nameEnd, int dataStart, int dataEnd) {
    long now = System.nanoTime();
    if (nameEnd - nameStart != PUBLISH.length || !Packets.is(frame, nameStart, PUBLISH) || dataStart < 0) {
      return;
    }
    long seq = Packets.numberAfter(frame, dataStart, dataEnd, SEQ);
    long sentAt = Packets.numberAfter(frame, dataStart, dataEnd, TS);
    if (seq < 0 || seq >= nextSeq || sentAt == Long.MIN_VALUE) {
      badDeliveries++;
      return;
    }
    if (c.tag == STALLED) {
      stalledGot[c.id - readerCount]++;
      return;
    }
    if (c.tag != READER) {
      badDeliveries++;
      return;
    }
    int q = (int) seq;
    if (q <= readerLast[c.id]) {
      duplicates++; // one publisher: each reader gets its messages in order, once
      return;
    }
    readerLast[c.id] = q;
    readerGot[c.id]++;
    readerDeliveries++;
    byte p = phaseOf[q];
    long micros = Math.min(Math.max(1, (now - sentAt) / 1000), latency[0].getHighestTrackableValue());
    latency[p].recordValue(micros);
    if (p == BESIDE) {
      int w = (int) ((sentAt - besideStartNanos) / (long) (windowSeconds * 1e9));
      while (windows.size() <= w) {
        windows.add(Stats.histogram());
      }
      windows.get(Math.max(0, w)).recordValue(micros);
    }
  }

  @Override
  public void lost(Client c) {
    if (c.tag == STALLED) {
      int i = c.id - readerCount;
      if (stopNanos[i] != 0 && cutNanos[i] == 0) {
        cutNanos[i] = System.nanoTime();
      }
      ends.merge(end(c), 1, Integer::sum);
      return;
    }
    lostConnections++;
    lostReasons.merge((c.tag == READER ? "reader: " : "publisher: ") + c.failure, 1, Integer::sum);
  }

  /** How a stalled client's connection ended, as the client saw it. */
  static String end(Client c) {
    if (c.closeCode >= 0) {
      return "close frame " + c.closeCode;
    }
    String f = c.failure == null ? "unknown" : c.failure;
    if (f.equals("closed by the server")) {
      return "TCP closed, no close frame";
    }
    return f.contains("reset") ? "reset" : f;
  }

  // --- result -----------------------------------------------------------------------------------

  /** Seconds from each client's stop to its cut-off: {first, median, last}, and from the first stop to the last cut. */
  static double[] cutTimes(long[] stop, long[] cut) {
    List<Double> d = new ArrayList<>();
    long firstStop = Long.MAX_VALUE;
    long lastCut = Long.MIN_VALUE;
    for (int i = 0; i < stop.length; i++) {
      if (stop[i] != 0) {
        firstStop = Math.min(firstStop, stop[i]);
      }
      if (stop[i] != 0 && cut[i] != 0) {
        d.add((cut[i] - stop[i]) / 1e9);
        lastCut = Math.max(lastCut, cut[i]);
      }
    }
    if (d.isEmpty()) {
      return new double[] {Double.NaN, Double.NaN, Double.NaN, Double.NaN};
    }
    d.sort(null);
    return new double[] {d.get(0), d.get((d.size() - 1) / 2), d.get(d.size() - 1), (lastCut - firstStop) / 1e9};
  }

  /** The command's last line. */
  static String line(int stalled, long cut, long outboundBuffer, long sendTimeout, double allCutS, double aloneP99,
      double besideP99, long lost, double rssBefore, double rssPeak) {
    return String.format(Locale.ROOT, "slow consumers: %d stalled, %d cut off (outbound_buffer %d, send_timeout %d) in %.0f s; "
        + "readers p99 %.1f ms alone, %.1f ms beside them (%.2fx); lost %d; server RSS %.0f -> %.0f MB peak",
        stalled, cut, outboundBuffer, sendTimeout, allCutS, aloneP99, besideP99, besideP99 / aloneP99, lost, rssBefore, rssPeak);
  }

  private void result(Map<String, Double> before, Map<String, Double> afterStall, Map<String, Double> end) throws Exception {
    Map<String, Object> r = net.call(() -> {
      Map<String, Object> m = new LinkedHashMap<>();
      long cut = 0;
      for (long n : cutNanos) {
        cut += n != 0 ? 1 : 0;
      }
      long lost = 0;
      int minGot = Integer.MAX_VALUE;
      for (int g : readerGot) {
        lost += Math.max(0, publishAcks - g);
        minGot = Math.min(minGot, g);
      }
      long stalledDeliveries = 0;
      for (long g : stalledGot) {
        stalledDeliveries += g;
      }
      m.put("cut", cut);
      m.put("lost", lost);
      m.put("minGot", minGot);
      m.put("times", cutTimes(stopNanos, cutNanos));
      m.put("stopped", (long) stopped);
      m.put("stalledDeliveries", stalledDeliveries);
      m.put("published", (long) nextSeq);
      List<Map<String, Object>> w = new ArrayList<>();
      for (int i = 0; i < windows.size(); i++) {
        Map<String, Object> x = new LinkedHashMap<>();
        x.put("fromS", i * windowSeconds);
        x.put("count", windows.get(i).getTotalCount());
        x.put("p99Ms", Stats.ms(windows.get(i), 99));
        x.put("maxMs", windows.get(i).getTotalCount() == 0 ? Double.NaN : Stats.round3(windows.get(i).getMaxValue() / 1000.0));
        w.add(x);
      }
      m.put("windows", w);
      return m;
    });
    double aloneP99 = Stats.ms(latency[ALONE], 99);
    double besideP99 = Stats.ms(latency[BESIDE], 99);
    double[] t = (double[]) r.get("times");
    Map<String, Long> cutOffs = MetricsText.delta(before, end, "agserver_slow_consumers_total");
    long outboundBuffer = cutOffs.getOrDefault("agserver_slow_consumers_total{reason=\"outbound_buffer\"}", 0L);
    long sendTimeout = cutOffs.getOrDefault("agserver_slow_consumers_total{reason=\"send_timeout\"}", 0L);
    double rssAlone = Double.NaN;
    double rssPeak = Double.NaN;
    double rssEndStall = Double.NaN;
    double heapPeak = Double.NaN;
    double kernelPeak = Double.NaN;
    long threadsPeak = -1;
    for (Map<String, Object> s : samples) {
      double rss = (Double) s.get("rssMb");
      if ("alone".equals(s.get("phase"))) {
        rssAlone = rss;
      } else if ("beside".equals(s.get("phase"))) {
        rssPeak = Double.isNaN(rssPeak) ? rss : Math.max(rssPeak, rss);
        rssEndStall = rss;
        double h = (Double) s.get("heapInUseMb");
        heapPeak = Double.isNaN(heapPeak) ? h : Math.max(heapPeak, h);
        double k = (Double) s.get("kernelTcpMb");
        kernelPeak = Double.isNaN(kernelPeak) ? k : Math.max(kernelPeak, k);
        threadsPeak = Math.max(threadsPeak, ((Number) s.get("threads")).longValue());
      }
    }
    long lost = (Long) r.get("lost");
    summary.put("readers", readerCount);
    summary.put("stalled", stalledCount);
    summary.put("rate", rate);
    summary.put("payloadBytes", pad.length + 48);
    summary.put("aloneP50Ms", Stats.ms(latency[ALONE], 50));
    summary.put("aloneP99Ms", aloneP99);
    summary.put("aloneMaxMs", maxMs(latency[ALONE]));
    summary.put("besideP50Ms", Stats.ms(latency[BESIDE], 50));
    summary.put("besideP99Ms", besideP99);
    summary.put("besideMaxMs", maxMs(latency[BESIDE]));
    summary.put("p99Ratio", Stats.round3(besideP99 / aloneP99));
    summary.put("stoppedReading", r.get("stopped"));
    summary.put("cutOff", r.get("cut"));
    summary.put("cutFirstS", Stats.round1(t[0]));
    summary.put("cutMedianS", Stats.round1(t[1]));
    summary.put("cutLastS", Stats.round1(t[2]));
    summary.put("allCutOffS", Stats.round1(t[3]));
    summary.put("serverCutOffs", cutOffs);
    summary.put("serverClosedByCode", MetricsText.delta(before, end, "agserver_connections_closed_total"));
    summary.put("serverCutOffsDuringStall", MetricsText.delta(before, afterStall, "agserver_slow_consumers_total"));
    summary.put("ends", net.call(() -> new TreeMap<>(ends)));
    summary.put("lost", lost);
    summary.put("duplicates", net.call(() -> duplicates));
    summary.put("readerMinDeliveries", r.get("minGot"));
    summary.put("published", r.get("published"));
    summary.put("publishErrors", net.call(() -> publishErrors));
    summary.put("publishesSkipped", net.call(() -> skipped));
    summary.put("lostConnections", net.call(() -> lostConnections));
    summary.put("rssAloneMb", rssAlone);
    summary.put("rssPeakMb", rssPeak);
    summary.put("rssEndOfStallMb", rssEndStall);
    summary.put("heapInUsePeakMb", heapPeak);
    summary.put("kernelTcpPeakMb", kernelPeak);
    summary.put("threadsPeak", threadsPeak);
    details.put("latencyAlone", Stats.summary(latency[ALONE]));
    details.put("latencyBeside", Stats.summary(latency[BESIDE]));
    details.put("latencyWarmup", Stats.summary(latency[WARMUP]));
    details.put("besideWindows", r.get("windows"));
    details.put("stalledDeliveries", r.get("stalledDeliveries"));
    details.put("lostReasons", net.call(() -> new TreeMap<>(lostReasons)));
    details.put("badDeliveries", net.call(() -> badDeliveries));
    details.put("subscribeErrors", net.call(() -> subscribeErrors));
    details.put("metricsAtEnd", end);
    String line = line(stalledCount, (Long) r.get("cut"), outboundBuffer, sendTimeout, t[3], aloneP99, besideP99, lost,
        rssAlone, rssPeak);
    summary.put("line", line);
    log("%s", line);
    if (!lineFile.isEmpty()) {
      Files.writeString(Path.of(lineFile), line + "\n");
    }
  }

  private static double maxMs(Histogram h) {
    return h.getTotalCount() == 0 ? Double.NaN : Stats.round3(h.getMaxValue() / 1000.0);
  }

  @Override
  boolean valid() {
    return summary.get("cutOff") instanceof Long cut && cut == stalledCount
        && summary.get("stoppedReading") instanceof Long st && st == stalledCount
        && summary.get("lost") instanceof Long lost && lost == 0
        && summary.get("duplicates") instanceof Long d && d == 0
        && summary.get("lostConnections") instanceof Long lc && lc == 0
        && summary.get("p99Ratio") instanceof Double ratio && ratio <= maxRatio;
  }
}
