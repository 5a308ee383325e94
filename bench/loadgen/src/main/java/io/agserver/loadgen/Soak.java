package io.agserver.loadgen;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A long mixed load with every delivery checked: {@code soak}. N connections (spread over the
 * servers of {@code --url}, comma-separated, one per instance), each logged in with
 * {@code #authenticate} (an HS256 token signed with the server's {@code --auth-key}) and
 * subscribed to K of C channels; then, for S seconds, at fixed rates: echo RPCs, publishes from
 * random connections to random channels, subscription churn (one channel left, another joined),
 * reconnects (a connection closed cleanly and opened again, logged in and subscribed anew) and
 * logins ({@code #removeAuthToken} then {@code #authenticate} with a fresh token).
 *
 * <p><b>Deliveries.</b> Every publish carries its message number, its publisher (one connection,
 * numbered anew at every reconnect) and its sequence number for that publisher and channel. A
 * subscription's life runs from its {@code #subscribe} to its {@code #unsubscribe}'s answer (or
 * its connection's close). It is owed every message acknowledged to its publisher and sent after
 * the subscribe was acknowledged (the server answers a subscribe once it holds, on Redis once
 * Redis confirmed it); a life that ended before the run did is owed, of each publisher, the
 * messages up to the last one it received from that publisher (a publisher's messages arrive in
 * order: a hole before a received one is a loss, while the ones after it may have raced the
 * unsubscribe). Owed and not received is lost; received twice in one life is a duplicate; a
 * message on a channel the connection had not subscribed is misrouted.
 *
 * <p><b>Server.</b> Every {@code --sample-seconds} (and when the mix ends) each server process
 * ({@code --pid}, comma-separated) is sampled: live heap after a full GC ({@link Heap}), RSS,
 * threads, open file descriptors, one CSV row each ({@code --csv}). Warm-up: the first
 * {@code --warmup-seconds} of the mix (default: 60 s, or half the run when that is shorter); the
 * heap growth is the last sample against the first one taken at or after the warm-up.
 */
final class Soak extends Scenario {
  private static final byte[] M = "\"m\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] P = "\"p\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] S = "\"s\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] R = "\"r\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CHANNEL = "\"channel\":\"soak-".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PUBLISH = "#publish".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] AUTHENTICATED = "\"isAuthenticated\":true".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HISTORY_CHANNEL = "\"channel\":\"hist-".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] FIRE_CHANNEL = "\"channel\":\"fire\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] OFFSET = "\"offset\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] EPOCH = "\"epoch\":\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] RECOVERED = "\"recovered\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] RATE_LIMIT_ERROR = "RateLimitError".getBytes(StandardCharsets.US_ASCII);

  private static final int RPC = 1;
  private static final int PUB = 2;
  private static final int SUB = 3;
  private static final int UNSUB = 4;
  private static final int LOGIN = 5;
  private static final int HSUB = 6;
  private static final int HPUB = 7;
  private static final int FIRESUB = 8;

  private static final byte SENT = 0;
  private static final byte ACKED = 1;
  private static final byte FAILED = 2;

  private final Net.Target[] targets;
  private final long[] pids;
  private final int connections;
  private final double seconds;
  private final int channels;
  private final int perConnection;
  private final double rpcRate;
  private final double publishRate;
  private final double churnRate;
  private final double reconnectRate;
  private final double loginRate;
  private final double sampleSeconds;
  private final double warmupSeconds;
  private final int inFlight;
  private final byte[] authKey;
  private final String csv;
  private final String lineFile;
  // soak --faults (see Faults): history subscriptions checked by offset, the faults' timeline.
  private final boolean faultsOn;
  private final String faultCommand;
  private final int historyChannels;
  private final int historyEvery;
  private final double historyRate;
  private final int stalledCount;
  private final double stallSeconds;
  private final double fireRate;
  private final int fireBytes;
  private final double floodRate;
  private final double floodSeconds;
  private final String reportFile;
  private final java.util.Set<String> faultList;
  /** The server processes now: instance 2's changes when the faults restart it (-1: none). */
  private final java.util.concurrent.atomic.AtomicLongArray pidNow;
  private final SplittableRandom random = new SplittableRandom(20_261_205L);

  // Everything below lives on the event loop.
  private Conn[] slots;
  private int nextPublisher;
  private final List<Life> ended = new ArrayList<>();
  private int[] chCount;
  private int[][] chMsgs;
  private int messages;
  private int[] mCh = new int[1 << 14];
  private int[] mIdx = new int[1 << 14];
  private int[] mPub = new int[1 << 14];
  private int[] mSeq = new int[1 << 14];
  private byte[] mState = new byte[1 << 14];
  private boolean mixing;
  private long[] mSent = new long[1 << 14];
  private HistoryCheck history;
  private FaultPhases phases;
  private int nextTarget;
  private final List<Conn> stalledConns = new ArrayList<>();
  private boolean firing;
  private Client fire;
  private boolean flooding;
  private Client flooder;
  private final Map<String, Long> floodCounts = new TreeMap<>();
  private boolean stopping;
  private long mixStartNanos;
  private final double[] due = new double[7];
  private double floodDue;
  private double fireDue;
  private long lastTick;
  private int openNow;
  // Counters.
  private long rpcs, publishes, subscribes, unsubscribes, logins, reconnects;
  private long deliveries, early, duplicates, misrouted, badDeliveries;
  private final Map<String, Long> errors = new TreeMap<>();
  private final List<Conn> toFlush = new ArrayList<>();

  /** One connection of a slot; a reconnect makes a new one. */
  private final class Conn implements Client.Listener {
    final int slot;
    final Client client;
    final int publisher = nextPublisher++;
    final HashMap<Integer, Life> subs = new HashMap<>();
    final HashMap<Long, long[]> calls = new HashMap<>();
    final HashMap<Integer, Integer> seqs = new HashMap<>();
    boolean open;
    boolean leaving;
    boolean closing;
    boolean authenticated;
    boolean dirty;
    /** One of the clients that stopped reading (soak --faults): none of the mix's work, no latency. */
    boolean stalled;

    Conn(int slot, Net.Target target) {
      this.slot = slot;
      this.client = new Client(slot, net, target);
    }

    void opened(Client c) {
      open = true;
      openNow++;
      login();
      for (int k = 0; k < perConnection; k++) {
        subscribe();
      }
      if (history != null && history.channelOf(slot) >= 0) {
        subscribeHistory();
      }
      c.flush();
    }

    void failed(Client c) {
      error("open failed: " + c.failure);
      net.loop.schedule(() -> reopen(slot), 1, TimeUnit.SECONDS);
    }

    @Override
    public void lost(Client c) {
      if (stalled) {
        floodOrStallEnd(stallEnds, c);
      } else {
        error("connection lost: " + c.failure);
      }
      gone();
      reopen(slot);
    }

    /** The connection is over: its lives end, its unanswered calls are settled. */
    void gone() {
      if (open) {
        open = false;
        openNow--;
      }
      for (Life l : subs.values()) {
        l.over = true;
        ended.add(l);
      }
      subs.clear();
      for (long[] call : calls.values()) {
        if (call[0] == PUB) {
          mState[(int) call[1]] = FAILED;
        }
        if (!leaving && !stalled) {
          error("unanswered " + kindName((int) call[0]) + " on a lost connection");
        }
      }
      calls.clear();
    }

    /** Marks the connection for the flush at the end of this tick. */
    void touched() {
      if (!dirty) {
        dirty = true;
        toFlush.add(this);
      }
    }

    long call(int kind, long value) {
      long cid = client.nextCid();
      calls.put(cid, new long[] {kind, value, System.nanoTime()});
      return cid;
    }

    /** The slot's history channel, recovering from where the slot stands (see HistoryCheck). */
    void subscribeHistory() {
      int ch = history.channelOf(slot);
      String recover = history.position(slot);
      ByteBuf b = client.buffer(120);
      b.writeCharSequence("{\"event\":\"#subscribe\",\"data\":{\"channel\":\"hist-", StandardCharsets.US_ASCII);
      Packets.writeLong(b, ch);
      b.writeCharSequence("\",\"data\":{\"recover\":" + recover + "}},\"cid\":", StandardCharsets.US_ASCII);
      Packets.writeLong(b, call(HSUB, ch));
      b.writeByte('}');
      client.send(b);
      subscribes++;
    }

    void publishHistory() {
      ByteBuf b = client.buffer(100);
      b.writeCharSequence("{\"event\":\"#publish\",\"data\":{\"channel\":\"hist-", StandardCharsets.US_ASCII);
      Packets.writeLong(b, random.nextInt(historyChannels));
      b.writeCharSequence("\",\"data\":{\"hp\":", StandardCharsets.US_ASCII);
      Packets.writeLong(b, publisher);
      b.writeCharSequence("}},\"cid\":", StandardCharsets.US_ASCII);
      Packets.writeLong(b, call(HPUB, 0));
      b.writeByte('}');
      client.send(b);
      publishes++;
    }

    /** Stops reading once the server holds its subscription to the firehose. */
    void stall() {
      stalled = true;
      ByteBuf b = client.buffer(64);
      b.writeCharSequence("{\"event\":\"#subscribe\",\"data\":{\"channel\":\"fire\"},\"cid\":", StandardCharsets.US_ASCII);
      Packets.writeLong(b, call(FIRESUB, 0));
      b.writeByte('}');
      client.send(b);
      client.flush();
    }

    void login() {
      if (authenticated) {
        ByteBuf b = client.buffer(32);
        b.writeCharSequence("{\"event\":\"#removeAuthToken\"}", StandardCharsets.US_ASCII);
        client.send(b);
        authenticated = false;
      }
      String token = token(slot);
      ByteBuf b = client.buffer(token.length() + 64);
      b.writeCharSequence("{\"event\":\"#authenticate\",\"data\":\"" + token + "\",\"cid\":", StandardCharsets.US_ASCII);
      Packets.writeLong(b, call(LOGIN, 0));
      b.writeByte('}');
      client.send(b);
      logins++;
    }

    void subscribe() {
      if (subs.size() >= channels) {
        return;
      }
      int ch;
      do {
        ch = random.nextInt(channels);
      } while (subs.containsKey(ch));
      subs.put(ch, new Life(ch, chCount[ch]));
      ByteBuf b = client.buffer(80);
      b.writeCharSequence("{\"event\":\"#subscribe\",\"data\":{\"channel\":\"soak-", StandardCharsets.US_ASCII);
      Packets.writeLong(b, ch);
      b.writeCharSequence("\"},\"cid\":", StandardCharsets.US_ASCII);
      Packets.writeLong(b, call(SUB, ch));
      b.writeByte('}');
      client.send(b);
      subscribes++;
    }

    /** Leaves one subscribed channel (acknowledged, not already leaving) and joins another. */
    void churn() {
      Life leave = null;
      for (Life l : subs.values()) {
        if (l.ackIdx >= 0 && !l.unsubscribing) {
          leave = l;
          break;
        }
      }
      if (leave == null) {
        return;
      }
      leave.unsubscribing = true;
      ByteBuf b = client.buffer(64);
      b.writeCharSequence("{\"event\":\"#unsubscribe\",\"data\":\"soak-", StandardCharsets.US_ASCII);
      Packets.writeLong(b, leave.channel);
      b.writeCharSequence("\",\"cid\":", StandardCharsets.US_ASCII);
      Packets.writeLong(b, call(UNSUB, leave.channel));
      b.writeByte('}');
      client.send(b);
      unsubscribes++;
      subscribe();
    }

    void rpc() {
      long n = rpcs++;
      ByteBuf b = client.buffer(64);
      b.writeCharSequence("{\"event\":\"echo\",\"data\":{\"r\":", StandardCharsets.US_ASCII);
      Packets.writeLong(b, n);
      b.writeCharSequence("},\"cid\":", StandardCharsets.US_ASCII);
      Packets.writeLong(b, call(RPC, n));
      b.writeByte('}');
      client.send(b);
    }

    void publish() {
      int ch = random.nextInt(channels);
      int seq = seqs.merge(ch, 1, Integer::sum);
      int m = newMessage(ch, publisher, seq);
      ByteBuf b = client.buffer(120);
      b.writeCharSequence("{\"event\":\"#publish\",\"data\":{\"channel\":\"soak-", StandardCharsets.US_ASCII);
      Packets.writeLong(b, ch);
      b.writeCharSequence("\",\"data\":{\"m\":", StandardCharsets.US_ASCII);
      Packets.writeLong(b, m);
      b.writeCharSequence(",\"p\":", StandardCharsets.US_ASCII);
      Packets.writeLong(b, publisher);
      b.writeCharSequence(",\"s\":", StandardCharsets.US_ASCII);
      Packets.writeLong(b, seq);
      b.writeCharSequence("}},\"cid\":", StandardCharsets.US_ASCII);
      Packets.writeLong(b, call(PUB, m));
      b.writeByte('}');
      client.send(b);
      publishes++;
    }

    /** A reconnect: no new calls; closed once its calls are answered (at most 10 s later). */
    void leave() {
      leaving = true;
      reconnects++;
      net.loop.schedule(this::closeNow, 10, TimeUnit.SECONDS);
      if (calls.isEmpty()) {
        closeNow();
      }
    }

    void closeNow() {
      if (!open || closing) {
        return;
      }
      closing = true;
      if (!calls.isEmpty()) {
        error("calls unanswered 10 s into a reconnect");
      }
      client.close(2000, () -> {
        gone();
        if (!stopping) {
          reopen(slot);
        }
      });
    }

    @Override
    public void reply(Client c, long rid, boolean error, ByteBuf frame, int dataStart, int dataEnd) {
      long[] call = calls.remove(rid);
      if (call == null) {
        error("reply to an unknown call");
        return;
      }
      int kind = (int) call[0];
      if (error) {
        error(kindName(kind) + " answered with an error");
      }
      switch (kind) {
        case RPC -> {
          if (!error && Packets.numberAfter(frame, Math.max(0, dataStart), Math.max(0, dataEnd), R) != call[1]) {
            error("echo answered with other data");
          }
          if (!error && phases != null && mixing && !stalled) {
            phases.rpc(System.nanoTime() - call[2]);
          }
        }
        case HSUB -> {
          if (error) {
            // Refused while Redis is away: subscribe again, as an application would.
            net.loop.schedule(() -> {
              if (open && !closing && !stalled && slots[slot] == this) {
                subscribeHistory();
                client.flush();
              }
            }, 1, TimeUnit.SECONDS);
          }
        }
        case FIRESUB -> {
          if (!error) {
            client.reading(false);
          }
        }
        case PUB -> mState[(int) call[1]] = error ? FAILED : ACKED;
        case SUB -> {
          Life l = subs.get((int) call[1]);
          if (l != null && l.ackIdx < 0) {
            if (error) {
              subs.remove(l.channel);
            } else {
              l.ackIdx = chCount[l.channel];
            }
          }
        }
        case UNSUB -> {
          Life l = subs.get((int) call[1]);
          if (l != null && !error) {
            subs.remove(l.channel);
            l.over = true;
            ended.add(l);
          }
        }
        case LOGIN -> {
          boolean ok = !error && dataStart >= 0 && indexOf(frame, dataStart, dataEnd, AUTHENTICATED) >= 0;
          if (!error && !ok) {
            error("#authenticate: not authenticated");
          }
          authenticated = ok;
        }
        default -> { }
      }
      if (leaving && calls.isEmpty()) {
        closeNow();
      }
    }

    @Override
    public void event(Client c, ByteBuf frame, int nameStart, int nameEnd, int dataStart, int dataEnd) {
      if (nameEnd - nameStart != PUBLISH.length || !Packets.is(frame, nameStart, PUBLISH) || dataStart < 0) {
        return; // #setAuthToken, #removeAuthToken and the like
      }
      if (history != null && indexOf(frame, dataStart, Math.min(dataEnd, dataStart + 40), HISTORY_CHANNEL) >= 0) {
        historyEvent(frame, dataStart, dataEnd);
        return;
      }
      if (stalled && indexOf(frame, dataStart, Math.min(dataEnd, dataStart + 40), FIRE_CHANNEL) >= 0) {
        return;
      }
      long m = Packets.numberAfter(frame, dataStart, dataEnd, M);
      long ch = Packets.numberAfter(frame, dataStart, dataEnd, CHANNEL);
      if (m < 0 || m >= messages || ch != mCh[(int) m]
          || Packets.numberAfter(frame, dataStart, dataEnd, P) != mPub[(int) m]
          || Packets.numberAfter(frame, dataStart, dataEnd, S) != mSeq[(int) m]) {
        badDeliveries++;
        return;
      }
      Life l = subs.get((int) ch);
      if (l == null) {
        misrouted++;
        return;
      }
      int k = mIdx[(int) m] - l.sentIdx;
      if (k < 0) {
        early++; // published before this subscribe was sent, handled by the server after it
        return;
      }
      if (l.got.get(k)) {
        duplicates++;
        return;
      }
      l.got.set(k);
      deliveries++;
      if (phases != null && mixing && !stalled) {
        phases.delivery(System.nanoTime() - mSent[(int) m]);
      }
    }

    private void historyEvent(ByteBuf frame, int dataStart, int dataEnd) {
      long ch = Packets.numberAfter(frame, dataStart, dataEnd, HISTORY_CHANNEL);
      long offset = Packets.numberAfter(frame, dataStart, dataEnd, OFFSET);
      int e = indexOf(frame, dataStart, dataEnd, EPOCH);
      int eEnd = e < 0 ? -1 : Packets.stringEnd(frame, e + EPOCH.length - 1, dataEnd);
      if (ch != history.channelOf(slot) || offset < 0 || eEnd < 0) {
        badDeliveries++;
        return;
      }
      String epoch = frame.toString(e + EPOCH.length, eEnd - e - EPOCH.length, StandardCharsets.US_ASCII);
      int r = indexOf(frame, dataStart, dataEnd, RECOVERED);
      if (r >= 0) {
        history.marker(slot, offset, epoch, frame.getByte(r + RECOVERED.length) == 't');
      } else {
        history.publication(slot, offset, epoch);
      }
    }
  }

  /** One subscription of one connection, from its #subscribe on. */
  private static final class Life {
    final int channel;
    final int sentIdx;
    int ackIdx = -1;
    boolean unsubscribing;
    boolean over;
    final BitSet got = new BitSet();

    Life(int channel, int sentIdx) {
      this.channel = channel;
      this.sentIdx = sentIdx;
    }
  }

  Soak(Net net, long pid, Options o) throws java.net.UnknownHostException {
    super(net, pid, o, o.dbl("seconds", 600) + 600);
    String[] urls = o.str("url", "").split(",");
    targets = new Net.Target[urls.length];
    for (int i = 0; i < urls.length; i++) {
      targets[i] = Net.target(urls[i].trim());
    }
    String pidList = o.str("pids", Long.toString(pid));
    pids = Arrays.stream(pidList.split(",")).mapToLong(s -> Long.parseLong(s.trim())).toArray();
    seconds = o.dbl("seconds", 600);
    connections = o.integer("connections", 10_000);
    channels = o.integer("channels", Math.max(2, connections / 5));
    perConnection = o.integer("channels-per-connection", 2);
    rpcRate = o.dbl("rpc-rate", 200);
    publishRate = o.dbl("publish-rate", 100);
    churnRate = o.dbl("churn-rate", 20);
    reconnectRate = o.dbl("reconnect-rate", 10);
    loginRate = o.dbl("login-rate", 20);
    sampleSeconds = o.dbl("sample-seconds", 30);
    warmupSeconds = o.dbl("warmup-seconds", Math.min(60, seconds / (o.flag("faults", false) ? 10 : 2)));
    inFlight = o.integer("in-flight", 100);
    authKey = o.str("auth-key", "").getBytes(StandardCharsets.UTF_8);
    csv = o.str("csv", "");
    lineFile = o.str("line-file", "");
    if (authKey.length == 0 || csv.isEmpty()) {
      throw new IllegalArgumentException("soak needs --auth-key (the server's socketcluster.authKey) and --csv FILE");
    }
    if (perConnection < 1 || perConnection >= channels) {
      throw new IllegalArgumentException("need 1 <= --channels-per-connection < --channels");
    }
    faultsOn = o.flag("faults", false);
    faultCommand = o.str("fault-command", "");
    historyChannels = o.integer("history-channels", faultsOn ? 50 : 0);
    historyEvery = o.integer("history-every", 10);
    historyRate = o.dbl("history-rate", historyChannels > 0 ? 20 : 0);
    stalledCount = o.integer("stalled", Math.min(100, connections / 10));
    stallSeconds = o.dbl("stall-seconds", Math.min(60, seconds / 10));
    fireRate = o.dbl("fire-rate", 40);
    fireBytes = o.integer("fire-bytes", 2000);
    floodRate = o.dbl("flood-rate", 2000);
    floodSeconds = o.dbl("flood-seconds", Math.min(30, seconds / 20));
    reportFile = o.str("report-file", "");
    faultList = java.util.Set.of(o.str("fault-list", "redis,kill,stall,flood").split(","));
    pidNow = new java.util.concurrent.atomic.AtomicLongArray(pids);
    if (faultsOn && (faultCommand.isEmpty() || targets.length < 2)) {
      throw new IllegalArgumentException("--faults needs --fault-command and two servers in --url");
    }
  }

  // --- the run ----------------------------------------------------------------------------------

  @Override
  void run() throws Exception {
    chCount = new int[channels];
    chMsgs = new int[channels][4];
    log("soak: %d connections to %d server(s), %d channels x %d each; for %.0f s: rpc %.0f/s, publish %.0f/s, "
        + "churn %.0f/s, reconnect %.0f/s, login %.0f/s", connections, targets.length, channels, perConnection,
        seconds, rpcRate, publishRate, churnRate, reconnectRate, loginRate);
    Faults faults = null;
    Map<String, Object> before = null;
    if (faultsOn) {
      faults = new Faults(faultCommand, Arrays.asList(targets), seconds, warmupSeconds, stalledCount, stallSeconds,
          floodSeconds, faultList, new FaultHooks());
      before = holdings(faults);
      log("faults: before the connections: %s", before);
    }
    if (historyChannels > 0) {
      int[] channelOf = new int[connections];
      for (int i = 0; i < connections; i++) {
        channelOf[i] = i % historyEvery == 0 ? (i / historyEvery) % historyChannels : -1;
      }
      history = new HistoryCheck(channelOf, historyChannels);
    }
    net.run(() -> {
      slots = new Conn[connections];
      for (int i = 0; i < Math.min(inFlight, connections); i++) {
        reopen(i);
      }
    });
    // The first connections open the next ones (opened(): one more slot each), so at most
    // inFlight handshakes are under way.
    long deadline = System.nanoTime() + 300_000_000_000L;
    while (net.call(() -> openNow) < connections && System.nanoTime() < deadline) {
      checkServer();
      sleepMs(200);
    }
    int opened = net.call(() -> openNow);
    log("opened %d of %d", opened, connections);
    if (opened < connections) {
      throw new IllegalStateException("opened " + opened + " of " + connections + " connections: " + errors);
    }

    List<long[]> samples = new ArrayList<>();
    Files.createDirectories(Path.of(csv).toAbsolutePath().getParent());
    try (Writer out = Files.newBufferedWriter(Path.of(csv))) {
      out.write("elapsed_s,instance,pid,heap_after_gc_mb,rss_mb,threads,fds,connections,publishes,deliveries,errors\n");
      long start = System.nanoTime();
      net.run(() -> {
        mixing = true;
        mixStartNanos = System.nanoTime();
        lastTick = mixStartNanos;
        if (faultsOn) {
          phases = new FaultPhases("warm-up", mixStartNanos);
        }
      });
      if (faults != null) {
        faults.start(net.call(() -> mixStartNanos));
      }
      var ticker = net.loop.scheduleAtFixedRate(this::tick, 10, 10, TimeUnit.MILLISECONDS);
      // soak --faults: a forced full GC every 30 s would stop the servers in every phase, so the
      // heap after GC is read at the warm-up's end and at the end only; RSS, threads and fds
      // every time.
      List<Double> times = new ArrayList<>();
      for (int n = 1; n * sampleSeconds < seconds; n++) {
        times.add(n * sampleSeconds);
      }
      if (faultsOn && !times.contains(warmupSeconds)) {
        times.add(warmupSeconds);
        times.sort(null);
      }
      times.add(seconds);
      try {
        sample(out, 0, samples, !faultsOn);
        for (double at : times) {
          sleepMs((long) ((start + (long) (at * 1e9) - System.nanoTime()) / 1e6));
          checkServer();
          boolean heap = !faultsOn || at >= seconds || at == warmupSeconds;
          if (at >= seconds) {
            net.run(() -> mixing = false);
            sample(out, at, samples, heap);
            break;
          }
          sample(out, at, samples, heap);
          if (faults != null && at == warmupSeconds) {
            faults.baselineReady();
          }
        }
      } finally {
        net.run(() -> mixing = false);
        ticker.cancel(false);
      }
    }
    if (faults != null) {
      details.put("faults", faults.finish());
    }
    drain();
    result(samples);
    net.run(() -> stopping = true);
    List<Client> open = net.call(() -> {
      List<Client> l = new ArrayList<>();
      for (Conn c : slots) {
        if (c != null && c.open) {
          c.leaving = true;
          l.add(c.client);
        }
      }
      for (Client c : new Client[] {fire, flooder}) {
        if (c != null && c.isOpen()) {
          l.add(c);
        }
      }
      return l;
    });
    details.put("notClosed", Opener.closeAll(net, open, 30));
    if (faults != null) {
      faultReport(faults, before);
    }
  }

  // --- soak --faults ------------------------------------------------------------------------------

  /** The clients' side of the faults; each hands its work to the event loop. */
  private final class FaultHooks implements Faults.Hooks {
    @Override
    public void phase(String name) {
      net.run(() -> phases.begin(name, System.nanoTime()));
    }

    @Override
    public void pid(int i, long pid) {
      pidNow.set(i, pid);
    }

    @Override
    public void stall(int n) {
      net.run(() -> {
        for (int tries = 0; stalledConns.size() < n && tries < 100 * n; tries++) {
          Conn c = pick();
          if (c != null && !c.closing) {
            c.stall();
            stalledConns.add(c);
          }
        }
        fire = new Client(-1, net, targets[0]);
        fire.start(new Client.OpenWatcher() {
          @Override
          public void opened(Client c) {
            firing = true;
          }

          @Override
          public void failed(Client c) {
            error("firehose: " + c.failure);
          }
        }, new Client.Listener() {}, openTimeoutMs);
      });
    }

    @Override
    public Map<String, Long> resume() throws InterruptedException {
      net.run(() -> {
        firing = false;
        if (fire.isOpen()) {
          fire.close(2000, () -> { });
        }
        for (Conn c : stalledConns) {
          c.client.reading(true);
        }
      });
      // What the clients had not read comes now, then the server's close or the TCP reset.
      long end = System.nanoTime() + 30_000_000_000L;
      while (System.nanoTime() < end && net.call(() -> stalledConns.stream().anyMatch(c -> c.open))) {
        sleepMs(200);
      }
      return net.call(() -> {
        Map<String, Long> ends = new TreeMap<>(stallEnds);
        long still = stalledConns.stream().filter(c -> c.open).count();
        if (still > 0) {
          ends.put("not cut off", still);
        }
        return ends;
      });
    }

    @Override
    public void flood(boolean on) {
      net.run(() -> {
        flooding = on;
        if (on) {
          openFlooder();
        } else if (flooder != null && flooder.isOpen()) {
          flooder.close(2000, () -> { });
        }
      });
    }

    @Override
    public Map<String, Object> flooded() {
      return net.call(() -> new LinkedHashMap<>(floodCounts));
    }
  }

  private final Map<String, Long> stallEnds = new TreeMap<>();

  /** How a stalled client or the flooder ended: the server's close code, or what the socket saw. */
  private static void floodOrStallEnd(Map<String, Long> into, Client c) {
    into.merge(c.closeCode >= 0 ? "closed " + c.closeCode : c.failure, 1L, Long::sum);
  }

  /** One client sending echo RPCs far beyond its rate limit, again as soon as it is closed. */
  private void openFlooder() {
    if (!flooding) {
      return;
    }
    Client f = new Client(-2, net, targets[0]);
    flooder = f;
    f.start(new Client.OpenWatcher() {
      @Override
      public void opened(Client c) {
        floodCounts.merge("connections", 1L, Long::sum);
      }

      @Override
      public void failed(Client c) {
        floodCounts.merge("open failed: " + c.failure, 1L, Long::sum);
        net.loop.schedule(Soak.this::openFlooder, 1, TimeUnit.SECONDS);
      }
    }, new Client.Listener() {
      @Override
      public void reply(Client c, long rid, boolean error, ByteBuf frame, int dataStart, int dataEnd) {
        String what = !error ? "answered" : indexOf(frame, frame.readerIndex(), frame.writerIndex(), RATE_LIMIT_ERROR) >= 0
            ? "RateLimitError" : "other error";
        floodCounts.merge(what, 1L, Long::sum);
      }

      @Override
      public void lost(Client c) {
        Map<String, Long> ends = new TreeMap<>();
        floodOrStallEnd(ends, c);
        ends.forEach((k, v) -> floodCounts.merge(k, v, Long::sum));
        net.loop.schedule(Soak.this::openFlooder, 100, TimeUnit.MILLISECONDS);
      }
    }, openTimeoutMs);
  }

  /** What each instance holds: its process's figures and its gauges; a full GC first. */
  private Map<String, Object> holdings(Faults faults) throws IOException, InterruptedException {
    Map<String, Object> all = new LinkedHashMap<>();
    for (int i = 0; i < targets.length; i++) {
      long pid = pidNow.get(i);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("pid", pid);
      if (pid > 0 && Proc.alive(pid)) {
        m.put("heapAfterGcMb", Stats.round1(Heap.usedAfterGc(pid, new ArrayList<>()) / 1048576.0));
        m.put("rssMb", Stats.round1(Proc.rssBytes(pid) / 1048576.0));
        m.put("threads", Proc.statusKb(pid, "Threads:"));
        m.put("fds", Proc.openFds(pid));
      }
      Map<String, Double> g = faults.scrape(targets[i]);
      for (String k : List.of("agserver_connections", "agserver_subscriptions", "agserver_channels",
          "agserver_outbound_waiting_frames", "agserver_outbound_waiting_characters")) {
        m.put(k, g.getOrDefault(k, Double.NaN).longValue());
      }
      all.put("instance " + (i + 1), m);
    }
    return all;
  }

  /** After every client closed: what the instances still hold, the report, the last line. */
  private void faultReport(Faults faults, Map<String, Object> before) throws IOException, InterruptedException {
    long end = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < end) {
      double open = 0;
      for (Net.Target t : targets) {
        open += faults.scrape(t).getOrDefault("agserver_connections", 0.0);
      }
      if (open == 0) {
        break;
      }
      sleepMs(500);
    }
    Map<String, Object> after = holdings(faults);
    log("faults: after every client closed: %s", after);
    long held = 0;
    for (Object o : after.values()) {
      Map<?, ?> m = (Map<?, ?>) o;
      for (String k : List.of("agserver_connections", "agserver_subscriptions", "agserver_outbound_waiting_frames")) {
        held += Math.max(0, (long) m.get(k));
      }
    }
    Map<String, Object> leaks = new LinkedHashMap<>();
    leaks.put("beforeConnections", before);
    leaks.put("afterClose", after);
    leaks.put("held", held);
    details.put("leaks", leaks);
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> table = (List<Map<String, Object>>) details.get("phases");
    Map<String, Object> h = history == null ? Map.of() : net.call(history::result);
    List<String> lines = new ArrayList<>(FaultPhases.table(table));
    Map<?, ?> f = (Map<?, ?>) details.get("faults");
    lines.add("history channels: " + h);
    lines.add("stalled clients: " + f.get("stall"));
    lines.add("flooder: " + f.get("flood"));
    lines.add("faults: " + f.get("log"));
    lines.add("before the connections: " + before);
    lines.add("after every client closed: " + after);
    long hLost = h.isEmpty() ? 0 : (long) h.get("lost");
    long dups = (h.isEmpty() ? 0 : (long) h.get("duplicates")) + net.call(() -> duplicates + misrouted + badDeliveries);
    lines.add(String.format(java.util.Locale.ROOT,
        "soak --faults: %d connections, %.0f s, history lost %d, duplicates %d, held after close %d, heap growth %s%%",
        connections, seconds, hLost, dups, held, summary.get("heapGrowthPercent")));
    summary.put("historyLost", hLost);
    summary.put("duplicates", dups);
    summary.put("heldAfterClose", held);
    faultsValid = hLost == 0 && dups == 0 && held == 0;
    for (String l : lines) {
      log("%s", l);
    }
    if (!reportFile.isEmpty()) {
      Files.write(Path.of(reportFile), lines);
    }
  }

  private boolean faultsValid;

  /** Opens the slot's next connection (the first, or after a reconnect or a loss). */
  private void reopen(int slot) {
    if (stopping) {
      return;
    }
    // The first connection of a slot goes to instance slot % n; later ones take turns, as behind a
    // round-robin balancer, so a dead instance's clients move and a restarted one fills again.
    Net.Target target = slots[slot] == null ? targets[slot % targets.length] : targets[nextTarget++ % targets.length];
    Conn c = new Conn(slot, target);
    slots[slot] = c;
    c.client.start(new Client.OpenWatcher() {
      @Override
      public void opened(Client cl) {
        c.opened(cl);
        // The initial opening: each open starts the next slot.
        int next = slot + inFlight;
        if (!mixing && next < connections && slots[next] == null) {
          reopen(next);
        }
      }

      @Override
      public void failed(Client cl) {
        c.failed(cl);
      }
    }, c, openTimeoutMs);
  }

  private void tick() {
    long now = System.nanoTime();
    double dt = (now - lastTick) / 1e9;
    lastTick = now;
    if (!mixing) {
      return;
    }
    double[] rates = {0, rpcRate, publishRate, churnRate, reconnectRate, loginRate, historyRate};
    for (int kind = 1; kind < rates.length; kind++) {
      due[kind] += rates[kind] * dt;
      while (due[kind] >= 1) {
        due[kind] -= 1;
        Conn c = pick();
        if (c == null) {
          continue;
        }
        c.touched();
        switch (kind) {
          case 1 -> c.rpc();
          case 2 -> c.publish();
          case 3 -> c.churn();
          case 4 -> c.leave();
          case 5 -> c.login();
          default -> c.publishHistory();
        }
      }
    }
    if (firing && fire.isOpen()) {
      fireDue += fireRate * dt;
      for (; fireDue >= 1; fireDue -= 1) {
        ByteBuf b = fire.buffer(fireBytes + 80);
        b.writeCharSequence("{\"event\":\"#publish\",\"data\":{\"channel\":\"fire\",\"data\":\"", StandardCharsets.US_ASCII);
        b.writeCharSequence("f".repeat(fireBytes), StandardCharsets.US_ASCII);
        b.writeCharSequence("\"}}", StandardCharsets.US_ASCII);
        fire.send(b);
      }
      fire.flush();
    }
    if (flooding && flooder != null && flooder.isOpen()) {
      floodDue += floodRate * dt;
      for (; floodDue >= 1; floodDue -= 1) {
        ByteBuf b = flooder.buffer(64);
        b.writeCharSequence("{\"event\":\"echo\",\"data\":{\"r\":0},\"cid\":", StandardCharsets.US_ASCII);
        Packets.writeLong(b, flooder.nextCid());
        b.writeByte('}');
        flooder.send(b);
        floodCounts.merge("sent", 1L, Long::sum);
      }
      flooder.flush();
    }
    for (Conn c : toFlush) {
      c.dirty = false;
      if (c.open && !c.closing) {
        c.client.flush();
      }
    }
    toFlush.clear();
  }

  /** A random open connection that is not leaving; null after a few misses. */
  private Conn pick() {
    for (int tries = 0; tries < 8; tries++) {
      Conn c = slots[random.nextInt(connections)];
      if (c != null && c.open && !c.leaving && !c.stalled) {
        return c;
      }
    }
    return null;
  }

  private int newMessage(int ch, int publisher, int seq) {
    int m = messages++;
    if (m >= mCh.length) {
      int n = mCh.length * 2;
      mCh = Arrays.copyOf(mCh, n);
      mIdx = Arrays.copyOf(mIdx, n);
      mPub = Arrays.copyOf(mPub, n);
      mSeq = Arrays.copyOf(mSeq, n);
      mState = Arrays.copyOf(mState, n);
      mSent = Arrays.copyOf(mSent, n);
    }
    int k = chCount[ch]++;
    if (k >= chMsgs[ch].length) {
      chMsgs[ch] = Arrays.copyOf(chMsgs[ch], chMsgs[ch].length * 2);
    }
    chMsgs[ch][k] = m;
    mCh[m] = ch;
    mIdx[m] = k;
    mPub[m] = publisher;
    mSeq[m] = seq;
    mSent[m] = System.nanoTime();
    mState[m] = SENT;
    return m;
  }

  private void error(String what) {
    errors.merge(what, 1L, Long::sum);
    if (phases != null) {
      phases.error(what);
    }
  }

  private static String kindName(int kind) {
    return switch (kind) {
      case RPC -> "rpc";
      case PUB -> "#publish";
      case SUB -> "#subscribe";
      case UNSUB -> "#unsubscribe";
      case HSUB -> "#subscribe (history)";
      case HPUB -> "#publish (history)";
      case FIRESUB -> "#subscribe (firehose)";
      default -> "#authenticate";
    };
  }

  /** An HS256 token as socketcluster-server's jsonwebtoken makes one. */
  private String token(int slot) {
    long now = System.currentTimeMillis() / 1000;
    String header = b64("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    String payload = b64("{\"username\":\"soak-" + slot + "\",\"iat\":" + now + ",\"exp\":" + (now + 3600) + "}");
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(authKey, "HmacSHA256"));
      byte[] sig = mac.doFinal((header + "." + payload).getBytes(StandardCharsets.US_ASCII));
      return header + "." + payload + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(sig);
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String b64(String json) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  private static int indexOf(ByteBuf b, int from, int to, byte[] word) {
    for (int i = from; i + word.length <= to; i++) {
      if (Packets.is(b, i, word)) {
        return i;
      }
    }
    return -1;
  }

  // --- samples ----------------------------------------------------------------------------------

  /** One row per server process: {elapsed ms, instance, heap bytes} kept for the growth. */
  private void sample(Writer out, double at, List<long[]> samples, boolean withHeap)
      throws IOException, InterruptedException {
    long[] counts = net.call(() -> new long[] {openNow, publishes, deliveries, errorCount()});
    for (int i = 0; i < pids.length; i++) {
      long pid = pidNow.get(i);
      if (pid <= 0 || !Proc.alive(pid)) {
        log("sample %.0f s: server %d is not running", at, i);
        continue;
      }
      long heap = -1;
      if (withHeap) {
        try {
          heap = Heap.usedAfterGc(pid, new ArrayList<>());
        } catch (IOException e) {
          log("sample %.0f s: server %d: %s", at, i, e.getMessage());
        }
      }
      long rss = Proc.rssBytes(pid);
      long threads = Proc.statusKb(pid, "Threads:");
      int fds = Proc.openFds(pid);
      if (heap >= 0) {
        samples.add(new long[] {Math.round(at * 1000), i, heap});
      }
      out.write(String.format(java.util.Locale.ROOT, "%.0f,%d,%d,%s,%.1f,%d,%d,%d,%d,%d,%d%n", at, i, pid,
          heap < 0 ? "" : String.format(java.util.Locale.ROOT, "%.1f", heap / 1048576.0), rss / 1048576.0, threads,
          fds, counts[0], counts[1], counts[2], counts[3]));
      log("sample %.0f s: server %d heap %s MB after GC, RSS %.1f MB, %d threads, %d fds; %d open, %d published, "
          + "%d delivered, %d errors", at, i, heap < 0 ? "-" : String.format(java.util.Locale.ROOT, "%.1f", heap / 1048576.0), rss / 1048576.0, threads, fds, counts[0], counts[1],
          counts[2], counts[3]);
    }
    out.flush();
  }

  private long errorCount() {
    long e = duplicates + misrouted + badDeliveries;
    for (long v : errors.values()) {
      e += v;
    }
    return e;
  }

  // --- the end ----------------------------------------------------------------------------------

  /** Until every call is answered and deliveries stop coming (each at most 30 s). */
  private void drain() throws InterruptedException {
    long end = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < end && net.call(this::pendingCalls) > 0) {
      sleepMs(100);
    }
    end = System.nanoTime() + 30_000_000_000L;
    long last = -1;
    long stableSince = System.nanoTime();
    while (System.nanoTime() < end) {
      long d = net.call(() -> deliveries);
      if (d != last) {
        last = d;
        stableSince = System.nanoTime();
      } else if (System.nanoTime() - stableSince > 2_000_000_000L) {
        break;
      }
      sleepMs(100);
    }
    net.run(() -> {
      for (Conn c : slots) {
        if (c == null) {
          continue;
        }
        for (long[] call : c.calls.values()) {
          error("unanswered " + kindName((int) call[0]) + " at the end");
        }
      }
    });
  }

  private long pendingCalls() {
    long n = 0;
    for (Conn c : slots) {
      if (c != null) {
        n += c.calls.size();
      }
    }
    return n;
  }

  /** Owed and lost deliveries over every subscription life, ended or still on. */
  private long[] tally() {
    long owed = 0;
    long lost = 0;
    List<Life> all = new ArrayList<>(ended);
    for (Conn c : slots) {
      if (c != null) {
        all.addAll(c.subs.values());
      }
    }
    HashMap<Integer, Integer> lastSeen = new HashMap<>();
    for (Life l : all) {
      if (l.ackIdx < 0) {
        continue;
      }
      int[] msgs = chMsgs[l.channel];
      int count = chCount[l.channel];
      boolean bounded = l.over || l.unsubscribing;
      if (bounded) {
        lastSeen.clear();
        for (int k = l.got.nextSetBit(0); k >= 0; k = l.got.nextSetBit(k + 1)) {
          int m = msgs[l.sentIdx + k];
          lastSeen.merge(mPub[m], mSeq[m], Math::max);
        }
      }
      for (int idx = l.ackIdx; idx < count; idx++) {
        int m = msgs[idx];
        if (mState[m] != ACKED) {
          continue;
        }
        if (bounded && mSeq[m] > lastSeen.getOrDefault(mPub[m], 0)) {
          continue;
        }
        owed++;
        if (!l.got.get(idx - l.sentIdx)) {
          lost++;
          if (phases != null) {
            phases.lost(mSent[m]);
          }
        }
      }
    }
    return new long[] {owed, lost};
  }

  private void result(List<long[]> samples) throws IOException {
    long[] t = net.call(this::tally);
    Map<String, Object> counts = net.call(() -> {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("rpcs", rpcs);
      m.put("publishes", publishes);
      m.put("subscribes", subscribes);
      m.put("unsubscribes", unsubscribes);
      m.put("logins", logins);
      m.put("reconnects", reconnects);
      m.put("deliveries", deliveries);
      m.put("earlyDeliveries", early);
      m.put("duplicates", duplicates);
      m.put("misrouted", misrouted);
      m.put("badDeliveries", badDeliveries);
      m.put("errors", new TreeMap<>(errors));
      m.put("errorCount", errorCount());
      return m;
    });
    double warmupMs = warmupSeconds * 1000;
    long baseAt = -1;
    long lastAt = -1;
    if (faultsOn) {
      // Instance 2 was killed and started again: its heap has no baseline to grow from.
      samples = samples.stream().filter(s -> s[1] == 0).toList();
      List<Map<String, Object>> table = net.call(() -> phases.result(System.nanoTime()));
      details.put("phases", table);
      details.put("slowestMsBySecond", net.call(() -> phases.slowestBySecond(System.nanoTime())));
    }
    if (history != null) {
      Map<String, Object> h = net.call(history::result);
      details.put("history", h);
      log("soak: history channels: %s", h);
    }
    for (long[] s : samples) {
      if (baseAt < 0 && s[0] >= warmupMs) {
        baseAt = s[0];
      }
      lastAt = Math.max(lastAt, s[0]);
    }
    long base = 0;
    long last = 0;
    for (long[] s : samples) {
      base += s[0] == baseAt ? s[2] : 0;
      last += s[0] == lastAt ? s[2] : 0;
    }
    double growth = base > 0 ? 100.0 * (last - base) / base : Double.NaN;
    summary.put("connections", connections);
    summary.put("seconds", seconds);
    summary.put("owed", t[0]);
    summary.put("lost", t[1]);
    summary.put("errors", counts.get("errorCount"));
    summary.put("heapBaselineAtS", baseAt / 1000.0);
    summary.put("heapBaselineMb", Stats.round1(base / 1048576.0));
    summary.put("heapLastMb", Stats.round1(last / 1048576.0));
    summary.put("heapGrowthPercent", Stats.round1(growth));
    details.put("counts", counts);
    log("soak: %d owed deliveries, %d lost; %s", t[0], t[1], counts);
    if (!lineFile.isEmpty() && !faultsOn) {
      Files.writeString(Path.of(lineFile), String.format(java.util.Locale.ROOT, "%d %.0f %d %d %.1f%n",
          connections, seconds, t[1], (long) counts.get("errorCount"), growth));
    }
  }

  @Override
  boolean valid() {
    if (faultsOn) {
      return faultsValid;
    }
    Object lost = summary.get("lost");
    Object errs = summary.get("errors");
    return lost instanceof Long l && l == 0 && errs instanceof Long e && e == 0;
  }
}
