package io.agserver.ops;

import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.agserver.AGRequest;
import io.agserver.AGServer;
import io.agserver.AGServerSocket;
import io.agserver.auth.jwt.JwtAuthEngine;
import io.agserver.core.AGScheduler;
import io.agserver.core.ServerStatus;
import io.agserver.pubsub.ChannelFeatures;

/**
 * One warm-up: {@link #LANES} loopback connections at a time, each one after the other for the
 * warm-up's duration, each doing what a reconnecting client does: the WebSocket upgrade,
 * {@code #handshake} (with the token the server gave the lane's previous connection, when the
 * server signs its own tokens), then at once {@code #subscribe} to the lane's channel,
 * {@link #CALLS} calls of a procedure and {@link #PUBLISHES} publish on that channel (delivered
 * back to it), then a close. Until the server answers a first connection (its port may open after the application
 * started), it tries again every {@link #RETRY_MS} ms, for {@link #REACH_LIMIT_MS} ms at most.
 *
 * <p>Everything runs on the server's workers (the container's managed executor where there is
 * one), as the continuations of the JDK client's callbacks; delays are the server's scheduler's,
 * never its sweep. When the time is up each lane finishes its connection, and the server closes
 * any warm-up socket still open: nothing is left behind.
 */
final class WarmUpRun {

  static final int LANES = 16;
  /**
   * Calls and publishes per connection: few, since a storm is mostly handshakes and the JDK
   * client's own work for each message shares the server's CPU.
   */
  static final int CALLS = 2;
  static final int PUBLISHES = 1;
  static final long RETRY_MS = 200;
  static final long REACH_LIMIT_MS = 60_000;
  /** A connection that takes longer than this (upgrade to close) is cut. */
  static final long CONNECTION_LIMIT_MS = 10_000;
  /** The procedure the warm-up's sockets answer (only theirs: it is registered on them alone). */
  static final String PROCEDURE = "#agserver-warm-up";

  /** How a run ended. */
  record Outcome(boolean reached, String why, long millis, long connections, long handshakes, long calls,
      long publishes, long deliveries, long failures, String lastFailure) {}

  private final ServerStatus status;
  private final AGServer server;
  private final AGScheduler scheduler;
  private final URI uri;
  private final long millis;
  private final String channels;
  private final boolean signsTokens;
  private final CompletableFuture<Outcome> outcome = new CompletableFuture<>();
  private final Set<LoopbackSocket> open = ConcurrentHashMap.newKeySet();
  private final AtomicLong connections = new AtomicLong();
  private final AtomicLong handshakes = new AtomicLong();
  private final AtomicLong calls = new AtomicLong();
  private final AtomicLong publishes = new AtomicLong();
  private final AtomicLong deliveries = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicInteger lanesLeft = new AtomicInteger(LANES);
  private volatile String lastFailure;
  private volatile String key;
  private volatile HttpClient client;
  private volatile boolean stopped;
  private volatile long startNanos;
  private volatile long deadlineNanos;

  WarmUpRun(ServerStatus status, URI uri, long millis) {
    this.status = status;
    this.server = status.server();
    this.scheduler = status.scheduler();
    this.uri = uri;
    this.millis = millis;
    this.channels = ChannelFeatures.WARM_UP_PREFIX + server.generateId() + "/";
    // The server's own token engine only: an application's AuthEngine is application code.
    this.signsTokens = server.authEngine().getClass() == JwtAuthEngine.class;
  }

  /** Starts (on the server's workers); the stage completes when the run is over. */
  CompletableFuture<Outcome> start() {
    startNanos = System.nanoTime();
    key = status.warmUpGate().open(this::serve);
    client = HttpClient.newBuilder().executor(scheduler::execute).connectTimeout(Duration.ofSeconds(5)).build();
    scheduler.execute(this::reach);
    return outcome;
  }

  /** Ends the run now (the application stops): open connections are cut. */
  void stop() {
    stopped = true;
    for (LoopbackSocket socket : List.copyOf(open)) {
      socket.abort();
    }
    finish();
  }

  /** Counts so far, for the readiness check's data. */
  long handshakes() {
    return handshakes.get();
  }

  /** The first connection, tried until the server answers it; then the lanes. */
  private void reach() {
    if (stopped) {
      return;
    }
    Lane first = new Lane(0);
    connection(first).whenComplete((ok, failure) -> {
      if (failure == null && handshakes.get() > 0) {
        deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        for (int i = 0; i < LANES; i++) {
          Lane lane = i == 0 ? first : new Lane(i);
          scheduler.execute(() -> next(lane));
        }
      } else {
        // Not served yet: an attempt, not a connection of the warm-up.
        connections.decrementAndGet();
        failures.decrementAndGet();
        if (System.nanoTime() - startNanos > TimeUnit.MILLISECONDS.toNanos(REACH_LIMIT_MS)) {
          finish();
        } else {
          scheduler.after(RETRY_MS, this::reach);
        }
      }
    });
  }

  /** One lane's next connection, or its end. */
  private void next(Lane lane) {
    if (stopped || System.nanoTime() >= deadlineNanos) {
      if (lanesLeft.decrementAndGet() == 0) {
        finish();
      }
      return;
    }
    connection(lane).whenComplete((ok, failure) -> scheduler.execute(() -> next(lane)));
  }

  /** One connection's life: open, the client's packets, close. Completes (never fails) when closed. */
  private CompletableFuture<Void> connection(Lane lane) {
    connections.incrementAndGet();
    CompletableFuture<Void> done = new CompletableFuture<>();
    LoopbackSocket.open(client, uri, key, Duration.ofSeconds(5), server.codec(), ping(), pong(), deliveries::incrementAndGet)
        .whenComplete((socket, failure) -> {
          if (failure != null) {
            failed(failure);
            done.complete(null);
            return;
          }
          open.add(socket);
          ScheduledFuture<?> cut = scheduler.after(CONNECTION_LIMIT_MS, socket::abort);
          script(socket, lane)
              .handle((ok, scriptFailure) -> {
                if (scriptFailure != null) {
                  failed(scriptFailure);
                }
                return null;
              })
              .thenCompose(ignored -> socket.close())
              .whenComplete((ok, closeFailure) -> {
                cut.cancel(false);
                open.remove(socket);
                done.complete(null);
              });
        });
    return done;
  }

  /**
   * What a reconnecting client sends: {@code #handshake}, then the rest at once (as a client
   * resubscribes and resumes its calls without waiting for each answer). A failed handshake ends
   * the connection; other failures are counted and the rest goes on.
   */
  private CompletableFuture<Void> script(LoopbackSocket socket, Lane lane) {
    Map<String, Object> handshake = new LinkedHashMap<>(2);
    handshake.put("authToken", lane.token);
    return socket.call("#handshake", handshake).thenCompose(answer -> {
      handshakes.incrementAndGet();
      List<CompletableFuture<Object>> answers = new java.util.ArrayList<>(1 + CALLS + PUBLISHES);
      String channel = channels + lane.number;
      answers.add(counted(socket.call("#subscribe", Map.of("channel", channel)), null));
      for (int i = 0; i < CALLS; i++) {
        answers.add(counted(socket.call(PROCEDURE, payload(i)), calls));
      }
      boolean clientPublish = server.options().allowClientPublish();
      for (int i = 0; i < PUBLISHES; i++) {
        Map<String, Object> data = payload(i);
        answers.add(counted(clientPublish
            ? socket.call("#publish", Map.of("channel", channel, "data", data))
            : socket.call(PROCEDURE, Map.of("publish", data, "channel", channel)), publishes));
      }
      return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new));
    }).thenRun(() -> {
      String token = socket.authToken();
      if (token != null) {
        lane.token = token;
      }
    });
  }

  /** The answer, its failure counted (the stage then completes with null, never fails). */
  private CompletableFuture<Object> counted(CompletableFuture<Object> answer, AtomicLong counter) {
    return answer.handle((value, failure) -> {
      if (failure != null) {
        failed(failure);
      } else if (counter != null) {
        counter.incrementAndGet();
      }
      return value;
    });
  }

  private static Map<String, Object> payload(int n) {
    Map<String, Object> data = new LinkedHashMap<>(4);
    data.put("n", n);
    data.put("text", "agserver warm-up");
    data.put("list", List.of(1, 2.5, true));
    return data;
  }

  /** The server's side of a warm-up socket, once its handshake completed. */
  private void serve(AGServerSocket socket) {
    socket.procedure(PROCEDURE).consume(this::answer);
    if (signsTokens && socket.authToken() == null) {
      socket.setAuthToken(Map.of("agserverWarmUp", true));
    }
  }

  private void answer(AGRequest request) {
    if (request.data() instanceof Map<?, ?> data && data.containsKey("publish")
        && data.get("channel") instanceof String channel && channel.startsWith(channels)) {
      server.exchange().invokePublish(channel, data.get("publish")).whenComplete((ok, failure) -> {
        if (failure != null) {
          request.error(failure);
        } else {
          request.end();
        }
      });
    } else {
      request.end(request.data());
    }
  }

  private void failed(Throwable failure) {
    failures.incrementAndGet();
    Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    lastFailure = String.valueOf(cause);
  }

  private void finish() {
    if (outcome.isDone()) {
      return;
    }
    status.closeWarmUp();
    client = null;
    long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    boolean reached = handshakes.get() > 0;
    String why = stopped ? "stopped" : reached ? null : "no connection to " + uri + " within " + REACH_LIMIT_MS + " ms";
    outcome.complete(new Outcome(reached, why, took, connections.get(), handshakes.get(), calls.get(),
        publishes.get(), deliveries.get(), failures.get(), lastFailure));
  }

  private String ping() {
    return server.options().protocolVersion() == 1 ? "#1" : "";
  }

  private String pong() {
    return server.options().protocolVersion() == 1 ? "#2" : "";
  }

  /** A sequence of connections, one at a time, on a channel of its own; the token its last connection was given. */
  private static final class Lane {
    final int number;
    volatile String token;

    Lane(int number) {
      this.number = number;
    }
  }
}
