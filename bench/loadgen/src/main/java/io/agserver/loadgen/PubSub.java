package io.agserver.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Publish/subscribe throughput. {@code fanout}: S = 1000 subscribers of one channel, one publisher.
 * {@code channels}: S = 1000 connections each subscribed to K = 10 of C = 1000 channels (10
 * subscribers a channel), 10 publishers taking turns over the channels. Every publish is a call
 * (acknowledged by the server) whose data carries its sequence number and send time; every
 * delivery is counted against its message, so losses, duplicates and deliveries to a connection
 * that did not subscribe are seen.
 *
 * <p>The rate ramps up: after a warm-up, steps of {@code step-seconds} at a rising rate (×1.3),
 * each followed by a tail at the same rate before it is judged. A step passes when the publishers
 * kept the rate, at least 97 % of the deliveries its messages owe arrived by the end of the tail,
 * and their p99 latency is at most 250 ms. After the first failure, two bisection steps (each after
 * a drain). Result: the best passing step's deliveries per second and its latency.
 *
 * <p>{@code cluster}: fanout's layout (by default), with the publishers connected to
 * {@code --publish-url}, a second server of the same cluster, so that every message reaches the
 * measured server through the cluster's broker (Redis, scc-broker). The CPU of the second server
 * ({@code --publisher-pid}), of the broker ({@code --broker-pid}) and of a helper
 * ({@code --helper-pid}) is measured apart from "other processes"; the broker's CPU time per
 * message published is measured over the whole run, less its idle rate (measured while the
 * subscriptions settle, before anything is published).
 */
final class PubSub extends Scenario implements Client.Listener {
  private static final byte[] SEQ = "\"lg_s\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TS = "\"lg_t\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PUBLISH = "#publish".getBytes(StandardCharsets.US_ASCII);
  private static final int SUBSCRIBER = 1;
  private static final int PUBLISHER = 2;
  private static final int NO_STEP = -1;
  private static final int MAX_MESSAGES = 1 << 25;

  private final String kind;
  private final boolean cluster;
  private final Net.Target publishTarget;
  private final Map<String, Long> sides = new LinkedHashMap<>();
  private final double settleSeconds;
  private final int subscribers;
  private final int channels;
  private final int perConnection;
  private final int publishers;
  private final double startRate;
  private final double fixedRate;
  private final double factor;
  private final double warmupSeconds;
  private final double stepSeconds;
  private final double tailSeconds;
  private final int maxSteps;
  private final int bisections;
  private final double passRatio;
  private final double maxP99Ms;
  private final int maxOutstanding;
  private final double drainSeconds;
  private final double noiseCores;
  private int retriesLeft;
  private final byte[] pad;
  private final byte[][] channelPrefix;

  // Channel assignment.
  private int[][] subscriptions;
  private int[] subscribersOf;
  private BitSet[] subscribedBy;

  // Event-loop state.
  private List<Client> pubs;
  private int[] got = new int[1 << 16];
  private short[] stepOf = new short[1 << 16];
  private int nextSeq;
  private int currentStep = NO_STEP;
  private double rate;
  private long rateStartNanos;
  private long issuedSinceRateStart;
  private long skipped;
  private long blocked;
  private long lastTickNanos;
  private long expectedTotal;
  private long deliveredTotal;
  private long duplicates;
  private long misrouted;
  private long badDeliveries;
  private long otherEvents;
  private long publishAcks;
  private long publishErrors;
  private long subscribeAcks;
  private long subscribeErrors;
  private long unknownReplies;
  private int lost;
  private final Map<String, Integer> lostReasons = new TreeMap<>();
  private final List<Step> steps = new ArrayList<>();
  private final Histogram allLatency = Stats.histogram();

  /** One measured step; its counters fill on the event loop. */
  private static final class Step {
    final int index;
    final double rate;
    final String phase;
    long startNanos;
    long endNanos;
    long published;
    long expected;
    long delivered;
    long late;
    boolean judged;
    long maxTickGapNanos;
    long skippedAtStart;
    long skippedAtEnd;
    long blockedAtStart;
    long blockedAtEnd;
    final Histogram latency = Stats.histogram();
    Proc.Mark cpuStart;
    Proc.Mark cpuEnd;
    boolean passed;
    boolean repeated;
    String why = "";

    Step(int index, double rate, String phase) {
      this.index = index;
      this.rate = rate;
      this.phase = phase;
    }

    double seconds() {
      return (endNanos - startNanos) / 1e9;
    }

    double deliveriesPerSec() {
      return seconds() > 0 ? delivered / seconds() : 0;
    }
  }

  PubSub(Net net, long pid, Options o, String kind) throws java.net.UnknownHostException {
    super(net, pid, o, 300);
    this.kind = kind;
    cluster = kind.equals("cluster");
    boolean fanout = !kind.equals("channels");
    if (cluster) {
      String publishUrl = o.str("publish-url", "");
      publishTarget = publishUrl.isEmpty() ? net.target : Net.target(publishUrl);
      long[] pids = {o.lng("publisher-pid", 0), o.lng("broker-pid", 0), o.lng("helper-pid", 0)};
      String[] names = {"publisher", "broker", "helper"};
      for (int i = 0; i < pids.length; i++) {
        if (pids[i] > 0) {
          sides.put(names[i], pids[i]);
        }
      }
      settleSeconds = o.dbl("settle-seconds", 2);
    } else {
      publishTarget = net.target;
      settleSeconds = 0.5;
    }
    subscribers = o.integer("subscribers", 1000);
    channels = o.integer("channels", fanout ? 1 : 1000);
    perConnection = o.integer("channels-per-subscriber", fanout ? 1 : 10);
    publishers = o.integer("publishers", fanout ? 1 : 10);
    startRate = o.dbl("start-rate", fanout ? 20 : 2000);
    fixedRate = o.dbl("rate", 0);
    factor = o.dbl("factor", 1.3);
    warmupSeconds = o.dbl("warmup-seconds", 10);
    stepSeconds = o.dbl("step-seconds", 2);
    tailSeconds = o.dbl("tail-seconds", 1);
    maxSteps = o.integer("max-steps", 25);
    bisections = o.integer("bisect", 2);
    passRatio = o.dbl("pass-ratio", 0.97);
    maxP99Ms = o.dbl("max-p99-ms", 250);
    maxOutstanding = o.integer("max-unacked", 5000);
    drainSeconds = o.dbl("drain-seconds", 10);
    noiseCores = o.dbl("noise-cores", 0.25);
    retriesLeft = o.integer("retries", 3);
    int payloadBytes = o.integer("payload-bytes", 100);
    if (perConnection < 1 || perConnection > channels || subscribers < 1 || publishers < 1) {
      throw new IllegalArgumentException("need 1 <= --channels-per-subscriber <= --channels, subscribers and publishers >= 1");
    }
    // data = {"lg_s":N,"lg_t":N,"p":"..."}: about payload-bytes with typical numbers.
    int padLength = Math.max(0, payloadBytes - 48);
    pad = new byte[padLength];
    for (int i = 0; i < padLength; i++) {
      pad[i] = (byte) ('a' + i % 26);
    }
    channelPrefix = new byte[channels][];
    for (int ch = 0; ch < channels; ch++) {
      channelPrefix[ch] = ("{\"event\":\"#publish\",\"data\":{\"channel\":\"bench-" + ch
          + "\",\"data\":{\"lg_s\":").getBytes(StandardCharsets.US_ASCII);
    }
  }

  // --- channel assignment ---------------------------------------------------------------------

  /**
   * Every subscriber gets K distinct channels, every channel the same number of subscribers (when
   * S·K is a multiple of C): the list of S·K slots (channel i mod C) is shuffled with a fixed seed,
   * then duplicates inside one subscriber are swapped away.
   */
  private void assignChannels() {
    int total = subscribers * perConnection;
    int[] slots = new int[total];
    for (int i = 0; i < total; i++) {
      slots[i] = i % channels;
    }
    Random rnd = new Random(20_251_123L);
    for (int i = total - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = slots[i];
      slots[i] = slots[j];
      slots[j] = t;
    }
    for (int attempt = 0; attempt < 1000; attempt++) {
      boolean clean = true;
      for (int s = 0; s < subscribers; s++) {
        for (int a = 0; a < perConnection; a++) {
          int at = s * perConnection + a;
          if (!duplicateIn(slots, s, a)) {
            continue;
          }
          clean = false;
          for (int tries = 0; tries < 10_000; tries++) {
            int q = rnd.nextInt(total);
            int other = q / perConnection;
            if (other == s) {
              continue;
            }
            if (!contains(slots, s, slots[q]) && !contains(slots, other, slots[at])) {
              int t = slots[q];
              slots[q] = slots[at];
              slots[at] = t;
              break;
            }
          }
        }
      }
      if (clean) {
        break;
      }
    }
    subscriptions = new int[subscribers][perConnection];
    subscribersOf = new int[channels];
    subscribedBy = new BitSet[subscribers];
    for (int s = 0; s < subscribers; s++) {
      subscribedBy[s] = new BitSet(channels);
      for (int a = 0; a < perConnection; a++) {
        int ch = slots[s * perConnection + a];
        subscriptions[s][a] = ch;
        if (!subscribedBy[s].get(ch)) {
          subscribedBy[s].set(ch);
          subscribersOf[ch]++;
        }
      }
    }
  }

  private boolean duplicateIn(int[] slots, int s, int a) {
    for (int b = 0; b < a; b++) {
      if (slots[s * perConnection + b] == slots[s * perConnection + a]) {
        return true;
      }
    }
    return false;
  }

  private boolean contains(int[] slots, int s, int ch) {
    for (int b = 0; b < perConnection; b++) {
      if (slots[s * perConnection + b] == ch) {
        return true;
      }
    }
    return false;
  }

  // --- the run ----------------------------------------------------------------------------------

  @Override
  void run() throws Exception {
    assignChannels();
    int minSubs = Arrays.stream(subscribersOf).min().orElse(0);
    int maxSubs = Arrays.stream(subscribersOf).max().orElse(0);
    details.put("subscribersPerChannel", minSubs == maxSubs ? minSubs : minSubs + ".." + maxSubs);

    log("%s: opening %d subscribers and %d publishers", kind, subscribers, publishers);
    Opener subs = new Opener(net, this, 0, subscribers, 100, openTimeoutMs).run(90);
    Opener pubOpener = new Opener(net, publishTarget, this, subscribers, publishers, 100, openTimeoutMs).run(30);
    if (subs.open.size() < subscribers || pubOpener.open.size() < publishers) {
      throw new IllegalStateException("opened " + subs.open.size() + "/" + subscribers + " subscribers, "
          + pubOpener.open.size() + "/" + publishers + " publishers: " + subs.failures + " " + pubOpener.failures);
    }
    pubs = pubOpener.open;
    pubs.sort((x, y) -> Integer.compare(x.id, y.id));
    List<Client> subClients = subs.open;
    net.run(() -> {
      for (Client p : pubs) {
        p.tag = PUBLISHER;
      }
      for (Client c : subClients) {
        c.tag = SUBSCRIBER;
        for (int ch : subscriptions[c.id]) {
          ByteBuf b = c.buffer(80);
          b.writeCharSequence("{\"event\":\"#subscribe\",\"data\":{\"channel\":\"bench-", StandardCharsets.US_ASCII);
          Packets.writeLong(b, ch);
          b.writeCharSequence("\"},\"cid\":", StandardCharsets.US_ASCII);
          Packets.writeLong(b, c.nextCid());
          b.writeByte('}');
          c.send(b);
        }
        c.flush();
      }
    });
    long want = (long) subscribers * perConnection;
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (net.call(() -> subscribeAcks + subscribeErrors) < want && System.nanoTime() < deadline) {
      sleepMs(50);
    }
    long acks = net.call(() -> subscribeAcks);
    details.put("subscribeAcks", acks);
    details.put("subscribeErrors", net.call(() -> subscribeErrors));
    if (acks < want) {
      throw new IllegalStateException("subscriptions acknowledged: " + acks + " of " + want);
    }
    // Subscriptions settle (in a cluster, they travel on to the broker); the broker's idle rate.
    long brokerPid = sides.getOrDefault("broker", 0L);
    Proc.Mark settleStart = Proc.mark(serverPid, sides);
    long ticksStart = brokerPid > 0 ? Proc.cpuTicks(brokerPid) : -1;
    sleepMs((long) (settleSeconds * 1000));
    Proc.Mark publishStart = Proc.mark(serverPid, sides);

    ScheduledFuture<?> ticker = net.loop.scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.MILLISECONDS);
    try {
      ramp();
    } finally {
      setRate(0);
      ticker.cancel(false);
    }
    drain();
    Proc.Mark publishEnd = Proc.mark(serverPid, sides);
    long ticksEnd = brokerPid > 0 ? Proc.cpuTicks(brokerPid) : -1;
    report();
    if (brokerPid > 0) {
      brokerCost(settleStart, publishStart, publishEnd, ticksStart, ticksEnd);
    }
    details.put("subscribersReceived", net.call(() -> Client.frameCounts(subClients)));
    details.put("publishersReceived", net.call(() -> Client.frameCounts(pubs)));
    details.put("notClosed", Opener.closeAll(net, subClients, 30) + Opener.closeAll(net, pubs, 10));
  }

  private void ramp() throws Exception {
    if (warmupSeconds > 0) {
      log("warm-up %.0f s at %.0f msg/s", warmupSeconds, fixedRate > 0 ? fixedRate : startRate);
      setRate(fixedRate > 0 ? fixedRate : startRate);
      sleepMs((long) (warmupSeconds * 1000));
    }
    if (fixedRate > 0) {
      step(fixedRate, "fixed");
      return;
    }
    double r = startRate;
    Step lastPass = null;
    Step firstFail = null;
    while (steps.size() < maxSteps) {
      Step s = judgedStep(r, "ramp");
      if (s.passed) {
        lastPass = s;
        r *= factor;
      } else {
        firstFail = s;
        break;
      }
    }
    if (firstFail == null) {
      return;
    }
    if (lastPass == null) {
      // Even the first rate was too much: halve it a few times to find a rate that holds.
      for (int k = 0; k < 3 && lastPass == null; k++) {
        setRate(0);
        drain();
        r /= 2;
        Step s = judgedStep(r, "down");
        if (s.passed) {
          lastPass = s;
        } else {
          firstFail = s;
        }
      }
      if (lastPass == null) {
        return;
      }
    }
    double lo = lastPass.rate;
    double hi = firstFail.rate;
    for (int k = 0; k < bisections; k++) {
      setRate(0);
      drain();
      double mid = Math.sqrt(lo * hi);
      Step s = judgedStep(mid, "bisect");
      if (s.passed) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
  }

  /**
   * A step whose failure is the machine's, not the server's, is run again (after a drain), up to
   * {@code --retries} times in all: when other processes took more than {@code --noise-cores}
   * during it, or the load generator's own loop fell behind.
   */
  private Step judgedStep(double r, String phase) throws Exception {
    Step s = step(r, phase);
    while (!s.passed && retriesLeft > 0) {
      Object other = Proc.cpuBetween(s.cpuStart, s.cpuEnd).get("otherCores");
      boolean noisy = other instanceof Double d && d > noiseCores;
      boolean behind = s.why.contains("load generator behind");
      if (!noisy && !behind) {
        break;
      }
      retriesLeft--;
      s.repeated = true;
      log("step %d: %s; running it again", s.index, noisy ? "other processes took " + other + " cores" : "the load generator fell behind");
      setRate(0);
      drain();
      waitQuiet(30);
      s = step(r, phase + " again");
    }
    return s;
  }

  /** Waits (publishing nothing) until the machine is quiet, at most {@code seconds}. */
  private static void waitQuiet(int seconds) throws InterruptedException {
    for (int i = 0; i < seconds; i++) {
      double busy = Proc.busyCores(1000);
      if (busy < 0.3) {
        return;
      }
      if (i == 0) {
        log("waiting for a quiet machine (busy %.2f cores)", busy);
      }
    }
  }

  /** One step: the window at {@code r}, then the tail at the same rate, then the verdict. */
  private Step step(double r, String phase) throws Exception {
    checkServer();
    Step s = new Step(steps.size(), r, phase);
    if (s.index > Short.MAX_VALUE) {
      throw new IllegalStateException("too many steps");
    }
    s.cpuStart = Proc.mark(serverPid, sides);
    net.run(() -> {
      if (rate != r) {
        setRateOnLoop(r);
      }
      steps.add(s);
      currentStep = s.index;
      s.startNanos = System.nanoTime();
      s.skippedAtStart = skipped;
      s.blockedAtStart = blocked;
    });
    sleepMs((long) (stepSeconds * 1000));
    net.run(() -> {
      currentStep = NO_STEP;
      s.endNanos = System.nanoTime();
      s.skippedAtEnd = skipped;
      s.blockedAtEnd = blocked;
    });
    s.cpuEnd = Proc.mark(serverPid, sides);
    sleepMs((long) (tailSeconds * 1000));
    net.run(() -> judge(s));
    log("step %d (%s) %.0f msg/s: %d/%d delivered, %.0f deliveries/s, p99 %.1f ms, server %.2f cores, loadgen %.2f -> %s",
        s.index, phase, r, s.delivered, s.expected, s.deliveriesPerSec(), Stats.ms(s.latency, 99),
        Proc.cpuBetween(s.cpuStart, s.cpuEnd).get("serverCores"),
        Proc.cpuBetween(s.cpuStart, s.cpuEnd).get("loadgenCores"), s.passed ? "pass" : "FAIL " + s.why);
    return s;
  }

  /** The verdict, on the event loop: deliveries that arrive after it count as late, not in the step. */
  private void judge(Step s) {
    s.judged = true;
    double target = s.rate * s.seconds();
    StringBuilder why = new StringBuilder();
    if (s.published + 2 < passRatio * target) { // 2: rounding at both ends of a short window
      // Blocked: the publishers' connections were full or too many publishes unacknowledged
      // (the server's backpressure); otherwise the load generator's own loop fell behind.
      why.append("rate not kept (").append(s.published).append(" of ").append(Math.round(target))
          .append(s.blockedAtEnd > s.blockedAtStart ? ", publishers blocked" : ", load generator behind")
          .append(") ");
    }
    if (s.delivered < passRatio * s.expected) {
      why.append("delivered ").append(s.delivered).append(" of ").append(s.expected).append(' ');
    }
    double p99 = Stats.ms(s.latency, 99);
    if (!(p99 <= maxP99Ms)) {
      why.append("p99 ").append(p99).append(" ms ");
    }
    if (s.published == 0) {
      why.append("nothing published ");
    }
    s.passed = why.length() == 0;
    s.why = why.toString().trim();
  }

  private void setRate(double r) {
    net.run(() -> setRateOnLoop(r));
  }

  private void setRateOnLoop(double r) {
    rate = r;
    rateStartNanos = System.nanoTime();
    issuedSinceRateStart = 0;
  }

  /** Waits until every published message has reached all its subscribers, or progress stops. */
  private void drain() throws InterruptedException {
    long end = System.nanoTime() + (long) (drainSeconds * 1e9);
    long last = -1;
    long lastProgress = System.nanoTime();
    while (System.nanoTime() < end) {
      long[] s = net.call(() -> new long[] {deliveredTotal, expectedTotal, publishAcks + publishErrors, nextSeq});
      if (s[0] >= s[1] && s[2] >= s[3]) {
        return;
      }
      if (s[0] != last) {
        last = s[0];
        lastProgress = System.nanoTime();
      } else if (System.nanoTime() - lastProgress > 3_000_000_000L) {
        return;
      }
      sleepMs(50);
    }
  }

  // --- publishing (event loop) ----------------------------------------------------------------

  private void tick() {
    long now = System.nanoTime();
    if (currentStep != NO_STEP && lastTickNanos != 0) {
      Step st = steps.get(currentStep);
      st.maxTickGapNanos = Math.max(st.maxTickGapNanos, now - lastTickNanos);
    }
    lastTickNanos = now;
    if (rate <= 0) {
      return;
    }
    long due = (long) (rate * (now - rateStartNanos) / 1e9) - issuedSinceRateStart;
    if (due <= 0) {
      return;
    }
    long burst = Math.max(1, (long) (rate * 0.1));
    if (due > burst) {
      skipped += due - burst;
      issuedSinceRateStart += due - burst;
      due = burst;
    }
    for (long k = 0; k < due; k++) {
      int seq = nextSeq;
      Client p = pubs.get(seq % publishers);
      if (!p.isOpen() || p.outstanding >= maxOutstanding || !p.writable() || seq >= MAX_MESSAGES) {
        blocked += due - k;
        skipped += due - k;
        issuedSinceRateStart += due - k;
        break;
      }
      publish(p, seq, now);
      issuedSinceRateStart++;
    }
    for (Client p : pubs) {
      if (p.isOpen()) {
        p.flush();
      }
    }
  }

  private void publish(Client p, int seq, long now) {
    if (seq >= got.length) {
      got = Arrays.copyOf(got, got.length * 2);
      stepOf = Arrays.copyOf(stepOf, stepOf.length * 2);
    }
    int ch = seq % channels;
    stepOf[seq] = (short) currentStep;
    nextSeq = seq + 1;
    int owed = subscribersOf[ch];
    expectedTotal += owed;
    if (currentStep != NO_STEP) {
      Step s = steps.get(currentStep);
      s.published++;
      s.expected += owed;
    }
    sendTimedPublish(p, channelPrefix[ch], seq, pad);
  }

  /**
   * A {@code #publish} with an acknowledgement: {@code prefix} (the packet up to its data's
   * {@code "lg_seq":}), the sequence number, the send time ({@code "lg_t"}, nanoTime) and the pad.
   */
  static void sendTimedPublish(Client p, byte[] prefix, long seq, byte[] pad) {
    ByteBuf b = p.buffer(prefix.length + pad.length + 64);
    b.writeBytes(prefix);
    Packets.writeLong(b, seq);
    b.writeCharSequence(",\"lg_t\":", StandardCharsets.US_ASCII);
    Packets.writeLong(b, System.nanoTime());
    b.writeCharSequence(",\"p\":\"", StandardCharsets.US_ASCII);
    b.writeBytes(pad);
    b.writeCharSequence("\"}},\"cid\":", StandardCharsets.US_ASCII);
    Packets.writeLong(b, p.nextCid());
    b.writeByte('}');
    p.outstanding++;
    p.send(b);
  }

  // --- receiving (event loop) -----------------------------------------------------------------

  @Override
  public void reply(Client c, long rid, boolean error, ByteBuf frame, int dataStart, int dataEnd) {
    if (c.tag == PUBLISHER) {
      c.outstanding--;
      if (error) {
        publishErrors++;
      } else {
        publishAcks++;
      }
    } else if (c.tag == SUBSCRIBER || c.tag == 0) {
      if (error) {
        subscribeErrors++;
      } else {
        subscribeAcks++;
      }
    } else {
      unknownReplies++;
    }
  }

  @Override
  public void event(Client c, ByteBuf frame, int nameStart, int nameEnd, int dataStart, int dataEnd) {
    long now = System.nanoTime();
    if (nameEnd - nameStart != PUBLISH.length || !Packets.is(frame, nameStart, PUBLISH) || dataStart < 0) {
      otherEvents++;
      return;
    }
    long seq = Packets.numberAfter(frame, dataStart, dataEnd, SEQ);
    long sentAt = Packets.numberAfter(frame, dataStart, dataEnd, TS);
    if (seq < 0 || seq >= nextSeq || sentAt == Long.MIN_VALUE) {
      badDeliveries++;
      return;
    }
    int q = (int) seq;
    int ch = q % channels;
    if (c.tag != SUBSCRIBER || !subscribedBy[c.id].get(ch)) {
      misrouted++;
      return;
    }
    if (++got[q] > subscribersOf[ch]) {
      duplicates++;
      return;
    }
    deliveredTotal++;
    long micros = Math.max(1, (now - sentAt) / 1000);
    allLatency.recordValue(Math.min(micros, allLatency.getHighestTrackableValue()));
    int st = stepOf[q];
    if (st != NO_STEP) {
      Step s = steps.get(st);
      if (s.judged) {
        s.late++;
      } else {
        s.delivered++;
        s.latency.recordValue(Math.min(micros, s.latency.getHighestTrackableValue()));
      }
    }
  }

  @Override
  public void lost(Client c) {
    lost++;
    lostReasons.merge(c.failure, 1, Integer::sum);
  }

  // --- result -----------------------------------------------------------------------------------

  /**
   * The broker's CPU time per message published: from the first publish to the end of the final
   * drain, less what it spends idle (its rate while the subscriptions settled, nothing published),
   * over the messages published. For comparison, the whole span's utime + stime from
   * {@code /proc/PID/stat} (10 ms ticks, idle included) over the messages.
   */
  private void brokerCost(Proc.Mark idleStart, Proc.Mark start, Proc.Mark end, long ticksStart, long ticksEnd) {
    long messages = net.call(() -> (long) nextSeq);
    long idleNanos = start.sides().get("broker") - idleStart.sides().get("broker");
    double idleSeconds = (start.nanos() - idleStart.nanos()) / 1e9;
    long busyNanos = end.sides().get("broker") - start.sides().get("broker");
    double seconds = (end.nanos() - start.nanos()) / 1e9;
    double idleCores = idleSeconds > 0 ? idleNanos / 1e9 / idleSeconds : 0;
    double netNanos = busyNanos - idleCores * seconds * 1e9;
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("messages", messages);
    m.put("seconds", Stats.round3(seconds));
    m.put("cpuMs", Stats.round3(busyNanos / 1e6));
    m.put("idleCores", Stats.round3(idleCores));
    m.put("grossUsPerPublish", messages == 0 ? Double.NaN : Stats.round3(busyNanos / 1e3 / messages));
    m.put("usPerPublish", messages == 0 ? Double.NaN : Stats.round3(Math.max(0, netNanos) / 1e3 / messages));
    m.put("statTicks", ticksStart >= 0 && ticksEnd >= 0 ? ticksEnd - ticksStart : -1);
    m.put("statUsPerPublish", messages == 0 || ticksStart < 0 || ticksEnd < 0 ? Double.NaN
        : Stats.round3((ticksEnd - ticksStart) * (1e6 / Proc.HZ) / messages));
    details.put("brokerCpu", m);
    summary.put("brokerCpuUsPerPublish", m.get("usPerPublish"));
  }

  private void report() {
    Step best = null;
    Step peak = null;
    Step firstFail = null;
    for (Step s : steps) {
      if (s.passed && (best == null || s.deliveriesPerSec() > best.deliveriesPerSec())) {
        best = s;
      }
      if (peak == null || s.deliveriesPerSec() > peak.deliveriesPerSec()) {
        peak = s;
      }
      if (!s.passed && !s.repeated && firstFail == null) {
        firstFail = s;
      }
    }
    Step half = null;
    if (best != null) {
      double target = best.deliveriesPerSec() / 2;
      for (Step s : steps) {
        if (s.passed && (half == null
            || Math.abs(s.deliveriesPerSec() - target) < Math.abs(half.deliveriesPerSec() - target))) {
          half = s;
        }
      }
    }
    long[] totals = net.call(() -> {
      long lostDeliveries = 0;
      for (int q = 0; q < nextSeq; q++) {
        lostDeliveries += Math.max(0, subscribersOf[q % channels] - got[q]);
      }
      return new long[] {lostDeliveries, nextSeq, deliveredTotal, expectedTotal, duplicates, misrouted,
          badDeliveries, otherEvents, publishAcks, publishErrors, skipped, lost, unknownReplies};
    });
    summary.put("sustainedDeliveriesPerSec", best == null ? 0 : Math.round(best.deliveriesPerSec()));
    summary.put("sustainedPublishesPerSec", best == null ? 0 : Math.round(best.published / best.seconds()));
    summary.put("p50Ms", best == null ? Double.NaN : Stats.ms(best.latency, 50));
    summary.put("p99Ms", best == null ? Double.NaN : Stats.ms(best.latency, 99));
    summary.put("peakDeliveriesPerSec", peak == null ? 0 : Math.round(peak.deliveriesPerSec()));
    summary.put("halfLoadP50Ms", half == null ? Double.NaN : Stats.ms(half.latency, 50));
    summary.put("halfLoadP99Ms", half == null ? Double.NaN : Stats.ms(half.latency, 99));
    summary.put("lost", totals[0]);
    summary.put("duplicates", totals[4]);
    summary.put("misrouted", totals[5]);
    summary.put("rampLimitReached", firstFail == null && fixedRate <= 0);
    summary.put("noPassingStep", best == null);
    if (best != null) {
      cpu.putAll(Proc.cpuBetween(best.cpuStart, best.cpuEnd));
    }
    if (firstFail != null) {
      Map<String, Object> f = Proc.cpuBetween(firstFail.cpuStart, firstFail.cpuEnd);
      details.put("firstFailCpu", f);
      Object lg = f.get("loadgenCores");
      Object sv = f.get("serverCores");
      boolean loadgenLimited = (lg instanceof Double l && sv instanceof Double s2 && l >= 0.9 && s2 < 0.9)
          || firstFail.why.contains("load generator behind");
      summary.put("loadgenLimited", loadgenLimited);
    } else {
      summary.put("loadgenLimited", null);
    }
    List<Map<String, Object>> list = new ArrayList<>();
    for (Step s : steps) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("step", s.index);
      m.put("phase", s.phase);
      m.put("rate", Stats.round1(s.rate));
      m.put("seconds", Stats.round3(s.seconds()));
      m.put("published", s.published);
      m.put("skipped", s.skippedAtEnd - s.skippedAtStart);
      m.put("blocked", s.blockedAtEnd - s.blockedAtStart);
      m.put("expected", s.expected);
      m.put("delivered", s.delivered);
      m.put("late", s.late);
      m.put("deliveriesPerSec", Math.round(s.deliveriesPerSec()));
      m.put("p50Ms", Stats.ms(s.latency, 50));
      m.put("p99Ms", Stats.ms(s.latency, 99));
      m.put("maxMs", s.latency.getTotalCount() == 0 ? Double.NaN : Stats.round3(s.latency.getMaxValue() / 1000.0));
      m.put("maxTickGapMs", Stats.round3(s.maxTickGapNanos / 1e6));
      m.put("passed", s.passed);
      if (s.repeated) {
        m.put("repeated", true);
      }
      if (!s.passed) {
        m.put("why", s.why);
      }
      Map<String, Object> c = Proc.cpuBetween(s.cpuStart, s.cpuEnd);
      m.put("serverCores", c.get("serverCores"));
      m.put("loadgenCores", c.get("loadgenCores"));
      for (String side : sides.keySet()) {
        m.put(side + "Cores", c.get(side + "Cores"));
      }
      m.put("softirqCores", c.get("softirqCores"));
      m.put("otherCores", c.get("otherCores"));
      list.add(m);
    }
    details.put("steps", list);
    details.put("messages", totals[1]);
    details.put("deliveries", totals[2]);
    details.put("deliveriesOwed", totals[3]);
    details.put("badDeliveries", totals[6]);
    details.put("otherEvents", totals[7]);
    details.put("publishAcks", totals[8]);
    details.put("publishErrors", totals[9]);
    details.put("publishesSkipped", totals[10]);
    details.put("lostConnections", totals[11]);
    details.put("lostReasons", net.call(() -> new TreeMap<>(lostReasons)));
    details.put("unknownReplies", totals[12]);
    details.put("latencyAll", Stats.summary(allLatency));
  }
}
