package io.agserver.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * Request/response: C connections, each keeping W {@code echo} calls in flight (closed loop: an
 * answer sends the next call), a JSON string payload of P bytes. A warm-up (30 s: a JVM server
 * on one core is still compiling after the first few seconds, see {@link Connect}), then a
 * measured window: answers per second and their latency; every answer's data is compared with the
 * payload; error answers, wrong data and calls never answered are errors.
 */
final class Rpc extends Scenario implements Client.Listener {
  private static final byte[] PREFIX = "{\"event\":\"echo\",\"data\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CID = ",\"cid\":".getBytes(StandardCharsets.US_ASCII);

  private final int connections;
  private final int window;
  private final int payloadBytes;
  private final double warmupSeconds;
  private final double seconds;
  private final byte[] payload;
  private final ByteBuf payloadBuf;

  // Event-loop state.
  private boolean running;
  private boolean measuring;
  private long answered;
  private long measuredAnswers;
  private long errorReplies;
  private long wrongData;
  private long unknownRid;
  private long sent;
  private int lost;
  private final Map<String, Integer> lostReasons = new TreeMap<>();
  private final Histogram latency = Stats.histogram();

  Rpc(Net net, long pid, Options o) {
    super(net, pid, o, 180);
    connections = o.integer("connections", 100);
    window = o.integer("in-flight", 10);
    payloadBytes = o.integer("payload-bytes", 100);
    warmupSeconds = o.dbl("warmup-seconds", 30);
    seconds = o.dbl("seconds", 10);
    if (payloadBytes < 2 || window < 1 || window > 1000) {
      throw new IllegalArgumentException("--payload-bytes >= 2, --in-flight 1..1000");
    }
    payload = new byte[payloadBytes];
    payload[0] = '"';
    for (int i = 1; i < payloadBytes - 1; i++) {
      payload[i] = (byte) ('a' + i % 26);
    }
    payload[payloadBytes - 1] = '"';
    payloadBuf = io.netty.buffer.Unpooled.wrappedBuffer(payload);
  }

  @Override
  void run() throws Exception {
    log("opening %d connections", connections);
    Opener o = new Opener(net, this, 0, connections, 100, openTimeoutMs).run(60);
    if (o.open.size() < connections) {
      details.put("openFailures", o.failures);
      throw new IllegalStateException("opened " + o.open.size() + " of " + connections + ": " + o.failures);
    }
    List<Client> clients = o.open;
    net.run(() -> {
      running = true;
      for (Client c : clients) {
        c.sentCid = new long[window];
        c.sentAt = new long[window];
        for (int i = 0; i < window; i++) {
          call(c);
        }
        c.flush();
      }
    });
    // The warm-up in windows of at most 5 s, each one's rate kept in the result.
    List<Long> rates = new ArrayList<>();
    long warmupEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
    long before = net.call(() -> answered);
    while (System.nanoTime() < warmupEnd) {
      long start = System.nanoTime();
      sleepMs(Math.min(5000, (warmupEnd - start) / 1_000_000 + 1));
      checkServer();
      long now = net.call(() -> answered);
      double rate = (now - before) / ((System.nanoTime() - start) / 1e9);
      before = now;
      rates.add(Math.round(rate));
      log("warm-up window %d: %.0f req/s", rates.size(), rate);
    }
    long warmupAnswers = before;
    details.put("warmupPerSec", rates);
    Proc.Mark a = Proc.mark(serverPid);
    net.run(() -> measuring = true);
    log("measuring %.0f s", seconds);
    sleepMs((long) (seconds * 1000));
    long[] r = net.call(() -> {
      measuring = false;
      running = false;
      return new long[] {measuredAnswers, System.nanoTime()};
    });
    Proc.Mark b = Proc.mark(serverPid);
    double measuredSeconds = (b.nanos() - a.nanos()) / 1e9;
    // Let the calls still in flight come back, then count those that never did.
    long unanswered = 0;
    for (int i = 0; i < 50; i++) {
      unanswered = net.call(() -> clients.stream().filter(Client::isOpen).mapToLong(c -> c.outstanding).sum());
      if (unanswered == 0) {
        break;
      }
      sleepMs(100);
    }
    long errors = net.call(() -> errorReplies + wrongData + unknownRid + lost);
    summary.put("requestsPerSec", Math.round(r[0] / measuredSeconds));
    summary.put("p50Ms", Stats.ms(latency, 50));
    summary.put("p99Ms", Stats.ms(latency, 99));
    summary.put("p999Ms", Stats.ms(latency, 99.9));
    summary.put("errors", errors + unanswered);
    cpu.putAll(Proc.cpuBetween(a, b));
    details.put("latency", Stats.summary(latency));
    details.put("measuredAnswers", r[0]);
    details.put("measuredSeconds", Stats.round3(measuredSeconds));
    details.put("warmupAnswers", warmupAnswers);
    details.put("sent", net.call(() -> sent));
    details.put("errorReplies", net.call(() -> errorReplies));
    details.put("wrongData", net.call(() -> wrongData));
    details.put("unknownRid", net.call(() -> unknownRid));
    details.put("unanswered", unanswered);
    details.put("lostConnections", net.call(() -> lost));
    details.put("lostReasons", net.call(() -> new TreeMap<>(lostReasons)));
    details.put("received", net.call(() -> Client.frameCounts(clients)));
    details.put("notClosed", Opener.closeAll(net, clients, 30));
  }

  /** Sends one echo call on a connection with a free slot. */
  private void call(Client c) {
    long cid = c.nextCid();
    int slot = -1;
    for (int i = 0; i < window; i++) {
      if (c.sentCid[i] == 0) {
        slot = i;
        break;
      }
    }
    if (slot < 0) {
      return;
    }
    ByteBuf b = c.buffer(PREFIX.length + payload.length + CID.length + 12);
    b.writeBytes(PREFIX).writeBytes(payload).writeBytes(CID);
    Packets.writeLong(b, cid);
    b.writeByte('}');
    c.sentCid[slot] = cid;
    c.sentAt[slot] = System.nanoTime();
    c.outstanding++;
    sent++;
    c.send(b);
  }

  @Override
  public void reply(Client c, long rid, boolean error, ByteBuf frame, int dataStart, int dataEnd) {
    long now = System.nanoTime();
    int slot = -1;
    long[] cids = c.sentCid;
    for (int i = 0; cids != null && i < cids.length; i++) {
      if (cids[i] == rid) {
        slot = i;
        break;
      }
    }
    if (slot < 0) {
      unknownRid++;
      return;
    }
    cids[slot] = 0;
    c.outstanding--;
    answered++;
    if (error) {
      errorReplies++;
    } else if (dataEnd - dataStart != payload.length
        || !ByteBufUtil.equals(frame, dataStart, payloadBuf, 0, payload.length)) {
      wrongData++;
    }
    if (measuring) {
      measuredAnswers++;
      latency.recordValue(Math.max(1, (now - c.sentAt[slot]) / 1000));
    }
    if (running) {
      call(c);
    }
  }

  @Override
  public void lost(Client c) {
    lost++;
    lostReasons.merge(c.failure, 1, Integer::sum);
  }
}
