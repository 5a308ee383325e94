package io.agserver.loadgen;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Opens {@code count} connections with at most {@code inFlight} on their way at once (each one
 * finished, opened or failed, starts the next), recording each handshake's latency from the
 * start of its TCP connect to the {@code #handshake} answer.
 */
final class Opener implements Client.OpenWatcher {
  private final Net net;
  private final Client.Listener listener;
  private final int count;
  private final int inFlight;
  private final long timeoutMs;
  private final int firstId;
  private final Net.Target target;
  final List<Client> open = new ArrayList<>();
  final Histogram latency = Stats.histogram();
  final Map<String, Integer> failures = new TreeMap<>();
  private final CompletableFuture<Opener> done = new CompletableFuture<>();
  private int started;
  private int receiveBuffer;
  private int finished;
  int failed;
  long firstStartNanos;
  long lastOpenNanos;
  long endNanos;

  Opener(Net net, Client.Listener listener, int firstId, int count, int inFlight, long timeoutMs) {
    this(net, net.target, listener, firstId, count, inFlight, timeoutMs);
  }

  /** Connections to {@code target} instead of the scenario's server. */
  Opener(Net net, Net.Target target, Client.Listener listener, int firstId, int count, int inFlight, long timeoutMs) {
    this.net = net;
    this.target = target;
    this.listener = listener;
    this.firstId = firstId;
    this.count = count;
    this.inFlight = Math.max(1, inFlight);
    this.timeoutMs = timeoutMs;
  }

  /** Each connection's SO_RCVBUF (0: the kernel's default, autotuned). */
  Opener receiveBuffer(int bytes) {
    this.receiveBuffer = bytes;
    return this;
  }

  /** Opens them all and waits, at most {@code maxSeconds}. Runs on the controller thread. */
  Opener run(double maxSeconds) {
    net.loop.execute(() -> {
      firstStartNanos = System.nanoTime();
      if (count == 0) {
        finish();
      }
      for (int i = 0; i < Math.min(inFlight, count); i++) {
        startNext();
      }
    });
    try {
      return done.get((long) (maxSeconds * 1000), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("opening " + count + " connections took over " + maxSeconds + " s");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private void startNext() {
    if (started < count) {
      Client c = new Client(firstId + started, net, target);
      c.receiveBuffer = receiveBuffer;
      started++;
      c.start(this, listener, timeoutMs);
    }
  }

  @Override
  public void opened(Client c) {
    lastOpenNanos = c.openNanos;
    latency.recordValue(Math.max(1, (c.openNanos - c.startNanos) / 1000));
    open.add(c);
    next();
  }

  @Override
  public void failed(Client c) {
    failed++;
    String key = c.failure == null ? "unknown" : c.failure;
    failures.merge(key, 1, Integer::sum);
    next();
  }

  private void next() {
    finished++;
    startNext();
    if (finished == count) {
      finish();
    }
  }

  private void finish() {
    endNanos = System.nanoTime();
    done.complete(this);
  }

  /** Handshakes per second: opened connections over the time from the first start to the last open. */
  double rate() {
    long span = lastOpenNanos - firstStartNanos;
    return span <= 0 ? 0 : open.size() / (span / 1e9);
  }

  /** Closes every connection cleanly (close frame, then the server's TCP close), bounded in time. */
  static int closeAll(Net net, List<Client> clients, double maxSeconds) {
    CompletableFuture<Void> all = new CompletableFuture<>();
    int[] left = {0};
    net.loop.execute(() -> {
      left[0] = clients.size();
      if (left[0] == 0) {
        all.complete(null);
      }
      for (Client c : clients) {
        c.close(2000, () -> {
          if (--left[0] == 0) {
            all.complete(null);
          }
        });
      }
    });
    try {
      all.get((long) (maxSeconds * 1000), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      // counted below
    }
    return net.call(() -> left[0]);
  }
}
