package io.agserver.ops;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import io.agserver.codec.AGCodec;
import io.agserver.core.WarmUpGate;

/**
 * One warm-up connection to the server's own port: a SocketCluster client over the JDK's
 * WebSocket client, speaking what the official client speaks (calls with a {@code cid}, answered
 * by {@code rid}; pings answered; {@code #setAuthToken} kept; {@code #publish} deliveries counted),
 * in the server's own codec.
 *
 * <p>Threads: the JDK calls the listener on the HTTP client's executor (the server's workers), one
 * call at a time for this connection; sends are chained, one in flight, as the JDK requires.
 */
final class LoopbackSocket implements WebSocket.Listener {

  private final AGCodec codec;
  private final String ping;
  private final String pong;
  private final Runnable delivered;
  private final Map<Long, CompletableFuture<Object>> calls = new ConcurrentHashMap<>();
  private final AtomicLong cids = new AtomicLong();
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  // Touched by the listener's calls only, which the JDK makes one at a time.
  private final StringBuilder partial = new StringBuilder();
  private volatile WebSocket webSocket;
  private volatile String authToken;
  // Guarded by this: the last send, which the next one follows.
  private CompletableFuture<?> sending = CompletableFuture.completedFuture(null);

  private LoopbackSocket(AGCodec codec, String ping, String pong, Runnable delivered) {
    this.codec = codec;
    this.ping = ping;
    this.pong = pong;
    this.delivered = delivered;
  }

  /**
   * Opens a connection to {@code uri} with the warm-up's key; {@code delivered} runs for each
   * {@code #publish} received.
   */
  static CompletableFuture<LoopbackSocket> open(HttpClient client, URI uri, String key, Duration timeout,
      AGCodec codec, String ping, String pong, Runnable delivered) {
    LoopbackSocket socket = new LoopbackSocket(codec, ping, pong, delivered);
    return client.newWebSocketBuilder()
        .header(WarmUpGate.HEADER, key)
        .connectTimeout(timeout)
        .buildAsync(uri, socket)
        .thenApply(webSocket -> {
          socket.webSocket = webSocket;
          return socket;
        });
  }

  /** Sends {@code event} with {@code data} as a call; completes with the answer's data. */
  CompletableFuture<Object> call(String event, Object data) {
    long cid = cids.incrementAndGet();
    CompletableFuture<Object> answer = new CompletableFuture<>();
    calls.put(cid, answer);
    Map<String, Object> packet = new LinkedHashMap<>(4);
    packet.put("event", event);
    packet.put("data", data);
    packet.put("cid", cid);
    send(codec.encode(packet)).whenComplete((ok, failure) -> {
      if (failure != null) {
        calls.remove(cid);
        answer.completeExceptionally(failure);
      }
    });
    if (closed.isDone()) {
      fail(calls, "the connection closed");
    }
    return answer;
  }

  /** The token the server set on this connection ({@code #setAuthToken}), or null. */
  String authToken() {
    return authToken;
  }

  /**
   * Closes with 1000 and waits for the server's close (at most as long as {@code closeTimeout}
   * says, then the connection is cut).
   */
  CompletableFuture<Void> close() {
    WebSocket current = webSocket;
    if (current == null) {
      return CompletableFuture.completedFuture(null);
    }
    synchronized (this) {
      sending = sending.handle((ok, failure) -> null)
          .thenCompose(ignored -> current.sendClose(WebSocket.NORMAL_CLOSURE, ""));
    }
    return closed.handle((ok, failure) -> null);
  }

  /** Cuts the connection at once (a connection that outlived its time). */
  void abort() {
    WebSocket current = webSocket;
    if (current != null) {
      current.abort();
    }
    closed.complete(null);
    fail(calls, "the connection was cut");
  }

  private CompletableFuture<?> send(String text) {
    synchronized (this) {
      WebSocket current = webSocket;
      sending = sending.handle((ok, failure) -> null).thenCompose(ignored -> current.sendText(text, true));
      return sending;
    }
  }

  // ---- the listener ----

  @Override
  public void onOpen(WebSocket webSocket) {
    this.webSocket = webSocket;
    webSocket.request(1);
  }

  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
    partial.append(data);
    if (last) {
      String message = partial.toString();
      partial.setLength(0);
      receive(message);
    }
    webSocket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    closed.complete(null);
    fail(calls, "the server closed the connection (" + statusCode + ")");
    return null;
  }

  @Override
  public void onError(WebSocket webSocket, Throwable error) {
    closed.complete(null);
    fail(calls, "the connection failed: " + error);
  }

  private void receive(String message) {
    if (message.equals(ping)) {
      send(pong);
      return;
    }
    Object decoded = codec.decode(message);
    if (decoded instanceof List<?> batch) {
      for (Object packet : batch) {
        packet(packet);
      }
    } else {
      packet(decoded);
    }
  }

  private void packet(Object decoded) {
    if (!(decoded instanceof Map<?, ?> packet)) {
      return;
    }
    if (packet.get("rid") instanceof Number rid) {
      CompletableFuture<Object> answer = calls.remove(rid.longValue());
      if (answer != null) {
        Object error = packet.get("error");
        if (error != null) {
          answer.completeExceptionally(new IllegalStateException("the server answered with an error: " + error));
        } else {
          answer.complete(packet.get("data"));
        }
      }
      return;
    }
    Object event = packet.get("event");
    if ("#publish".equals(event)) {
      delivered.run();
    } else if ("#setAuthToken".equals(event) && packet.get("data") instanceof Map<?, ?> data
        && data.get("token") instanceof String token) {
      authToken = token;
    }
  }

  private static void fail(Map<Long, CompletableFuture<Object>> calls, String why) {
    List<CompletableFuture<Object>> pending = new ArrayList<>(calls.values());
    calls.clear();
    for (CompletableFuture<Object> answer : pending) {
      answer.completeExceptionally(new IllegalStateException(why));
    }
  }
}
