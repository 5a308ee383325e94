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

  private static final int RPC = 1;
  private static final int PUB = 2;
  private static final int SUB = 3;
  private static final int UNSUB = 4;
  private static final int LOGIN = 5;

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
  private boolean stopping;
  private long mixStartNanos;
  private final double[] due = new double[6];
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

    Conn(int slot) {
      this.slot = slot;
      this.client = new Client(slot, net, targets[slot % targets.length]);
    }

    void opened(Client c) {
      open = true;
      openNow++;
      login();
      for (int k = 0; k < perConnection; k++) {
        subscribe();
      }
      c.flush();
    }

    void failed(Client c) {
      error("open failed: " + c.failure);
      net.loop.schedule(() -> reopen(slot), 1, TimeUnit.SECONDS);
    }

    @Override
    public void lost(Client c) {
      error("connection lost: " + c.failure);
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
        if (!leaving) {
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
      calls.put(cid, new long[] {kind, value});
      return cid;
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
    warmupSeconds = o.dbl("warmup-seconds", Math.min(60, seconds / 2));
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
  }

  // --- the run ----------------------------------------------------------------------------------

  @Override
  void run() throws Exception {
    chCount = new int[channels];
    chMsgs = new int[channels][4];
    log("soak: %d connections to %d server(s), %d channels x %d each; for %.0f s: rpc %.0f/s, publish %.0f/s, "
        + "churn %.0f/s, reconnect %.0f/s, login %.0f/s", connections, targets.length, channels, perConnection,
        seconds, rpcRate, publishRate, churnRate, reconnectRate, loginRate);
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
      });
      var ticker = net.loop.scheduleAtFixedRate(this::tick, 10, 10, TimeUnit.MILLISECONDS);
      try {
        sample(out, 0, samples);
        for (int n = 1; ; n++) {
          double at = Math.min(n * sampleSeconds, seconds);
          sleepMs((long) ((start + (long) (at * 1e9) - System.nanoTime()) / 1e6));
          checkServer();
          if (at >= seconds) {
            net.run(() -> mixing = false);
            sample(out, at, samples);
            break;
          }
          sample(out, at, samples);
        }
      } finally {
        net.run(() -> mixing = false);
        ticker.cancel(false);
      }
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
      return l;
    });
    details.put("notClosed", Opener.closeAll(net, open, 30));
  }

  /** Opens the slot's next connection (the first, or after a reconnect or a loss). */
  private void reopen(int slot) {
    if (stopping) {
      return;
    }
    Conn c = new Conn(slot);
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
    double[] rates = {0, rpcRate, publishRate, churnRate, reconnectRate, loginRate};
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
          default -> c.login();
        }
      }
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
      if (c != null && c.open && !c.leaving) {
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
    mState[m] = SENT;
    return m;
  }

  private void error(String what) {
    errors.merge(what, 1L, Long::sum);
  }

  private static String kindName(int kind) {
    return switch (kind) {
      case RPC -> "rpc";
      case PUB -> "#publish";
      case SUB -> "#subscribe";
      case UNSUB -> "#unsubscribe";
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
  private void sample(Writer out, double at, List<long[]> samples) throws IOException, InterruptedException {
    long[] counts = net.call(() -> new long[] {openNow, publishes, deliveries, errorCount()});
    for (int i = 0; i < pids.length; i++) {
      long heap = Heap.usedAfterGc(pids[i], new ArrayList<>());
      long rss = Proc.rssBytes(pids[i]);
      long threads = Proc.statusKb(pids[i], "Threads:");
      int fds = Proc.openFds(pids[i]);
      samples.add(new long[] {Math.round(at * 1000), i, heap});
      out.write(String.format(java.util.Locale.ROOT, "%.0f,%d,%d,%.1f,%.1f,%d,%d,%d,%d,%d,%d%n", at, i, pids[i],
          heap / 1048576.0, rss / 1048576.0, threads, fds, counts[0], counts[1], counts[2], counts[3]));
      log("sample %.0f s: server %d heap %.1f MB after GC, RSS %.1f MB, %d threads, %d fds; %d open, %d published, "
          + "%d delivered, %d errors", at, i, heap / 1048576.0, rss / 1048576.0, threads, fds, counts[0], counts[1],
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
    if (!lineFile.isEmpty()) {
      Files.writeString(Path.of(lineFile), String.format(java.util.Locale.ROOT, "%d %.0f %d %d %.1f%n",
          connections, seconds, t[1], (long) counts.get("errorCount"), growth));
    }
  }

  @Override
  boolean valid() {
    Object lost = summary.get("lost");
    Object errs = summary.get("errors");
    return lost instanceof Long l && l == 0 && errs instanceof Long e && e == 0;
  }
}
