package io.agserver.loadgen;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The handshake rate of a server that has just started: what a rolling deploy's reconnect storm
 * meets. Started as soon as the server is launched, it polls until the server says it is ready
 * ({@code --ready-url}: an HTTP probe answering 200, agserver's {@code /health/ready}; without it,
 * until its port accepts a TCP connection, which is when Node's server is ready), then at once
 * opens connections for {@code --seconds} with {@code --in-flight} on their way: each TCP connect,
 * WebSocket upgrade and {@code #handshake}, then a close as soon as the handshake is answered (a
 * storm's clients stay connected; these are closed so that 10 s of them fit the file descriptors).
 * No quiet machine is awaited: the server is measured while it is cold, which is the point.
 *
 * <p>Reports handshakes per second over the whole window and per second of it, p50/p99, and how
 * long the server took from launch ({@code --launched-at}, epoch ms) to ready.
 */
final class ColdStart extends Scenario {
  private final String readyUrl;
  private final double seconds;
  private final int inFlight;
  private final long launchedAt;
  private final double readyTimeoutSeconds;

  private final Histogram latency = Stats.histogram();
  private final Map<String, Integer> failures = new TreeMap<>();
  private long[] perSecond;
  private long startNanos;
  private long endNanos;
  private int started;
  private int opened;
  private int failed;
  private int closing;
  private int settled;
  private boolean stopped;
  private final CompletableFuture<Void> done = new CompletableFuture<>();

  ColdStart(Net net, long pid, Options o) {
    super(net, pid, o, 300);
    readyUrl = o.str("ready-url", "");
    seconds = o.dbl("seconds", 10);
    inFlight = o.integer("in-flight", 100);
    launchedAt = o.lng("launched-at", 0);
    readyTimeoutSeconds = o.dbl("ready-timeout-seconds", 180);
  }

  @Override
  void run() throws Exception {
    long readyAtMillis = awaitReady();
    details.put("readyVia", readyUrl.isEmpty() ? "port open" : readyUrl);
    if (launchedAt > 0) {
      summary.put("readySeconds", Stats.round3((readyAtMillis - launchedAt) / 1000.0));
    }
    perSecond = new long[(int) Math.ceil(seconds)];
    Proc.Mark a = Proc.mark(serverPid);
    net.loop.execute(() -> {
      startNanos = System.nanoTime();
      endNanos = startNanos + (long) (seconds * 1e9);
      net.loop.schedule(this::stop, (long) (seconds * 1e9), TimeUnit.NANOSECONDS);
      for (int i = 0; i < inFlight; i++) {
        startNext();
      }
    });
    done.get((long) (seconds * 1000) + 60_000, TimeUnit.MILLISECONDS);
    Proc.Mark b = Proc.mark(serverPid);
    cpu.putAll(Proc.cpuBetween(a, b));
    summary.put("handshakesPerSec", Math.round(opened / seconds));
    summary.put("p50Ms", Stats.ms(latency, 50));
    summary.put("p99Ms", Stats.ms(latency, 99));
    summary.put("opened", opened);
    summary.put("failed", failed);
    List<Long> rates = new ArrayList<>();
    for (long n : perSecond) {
      rates.add(n);
    }
    details.put("perSecond", rates);
    details.put("latency", Stats.summary(latency));
    details.put("failures", failures);
  }

  /** Polls until ready; returns when (epoch ms). */
  private long awaitReady() throws Exception {
    long deadline = System.nanoTime() + (long) (readyTimeoutSeconds * 1e9);
    HttpClient http = readyUrl.isEmpty() ? null : HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    InetSocketAddress remote = net.target.remote();
    int polls = 0;
    while (System.nanoTime() < deadline) {
      polls++;
      checkServer();
      if (http != null ? readyByProbe(http) : portOpen(remote)) {
        details.put("readyPolls", polls);
        return System.currentTimeMillis();
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("not ready within " + readyTimeoutSeconds + " s ("
        + (readyUrl.isEmpty() ? "port " + remote : readyUrl) + ")");
  }

  private boolean readyByProbe(HttpClient http) {
    try {
      HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(readyUrl)).timeout(Duration.ofSeconds(5)).GET().build(),
          HttpResponse.BodyHandlers.discarding());
      return r.statusCode() == 200;
    } catch (Exception e) {
      return false;
    }
  }

  private static boolean portOpen(InetSocketAddress remote) {
    try (Socket s = new Socket()) {
      s.connect(remote, 1000);
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  // --- on the event loop ----------------------------------------------------------------------

  private void startNext() {
    if (stopped) {
      return;
    }
    Client c = new Client(started++, net);
    c.start(new Client.OpenWatcher() {
      @Override
      public void opened(Client client) {
        settled++;
        if (client.openNanos <= endNanos) {
          opened++;
          latency.recordValue(Math.max(1, (client.openNanos - client.startNanos) / 1000));
          int second = (int) ((client.openNanos - startNanos) / 1_000_000_000L);
          if (second >= 0 && second < perSecond.length) {
            perSecond[second]++;
          }
        }
        closing++;
        client.close(2000, () -> {
          closing--;
          finishIfDone();
        });
        startNext();
      }

      @Override
      public void failed(Client client) {
        settled++;
        if (client.endNanos <= endNanos) {
          failed++;
          failures.merge(client.failure == null ? "unknown" : client.failure, 1, Integer::sum);
        }
        startNext();
        finishIfDone();
      }
    }, new Client.Listener() {}, openTimeoutMs);
  }

  private void stop() {
    stopped = true;
    // Connections still on their way finish (and are closed); what they open after the window is not counted.
    net.loop.schedule(() -> {
      finishIfDone();
      net.loop.schedule(() -> done.complete(null), 30, TimeUnit.SECONDS);
    }, 0, TimeUnit.MILLISECONDS);
  }

  private void finishIfDone() {
    if (stopped && closing == 0 && settled == started) {
      done.complete(null);
    }
  }
}
