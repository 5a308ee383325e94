package io.agserver.arquillian;

import java.io.IOException;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.CloseReason;
import jakarta.websocket.ContainerProvider;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A real SocketCluster client at the wire level, run inside the server under test: the runtime's
 * own Jakarta WebSocket client (Liberty's or Payara's Tyrus) connects to the deployment over TCP.
 * Answers the server's pings ("") unless told not to.
 */
public final class WsClient extends Endpoint implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
  private final CompletableFuture<CloseReason> closed = new CompletableFuture<>();
  private volatile boolean answerPings = true;
  private final AtomicInteger pings = new AtomicInteger();
  private volatile Session session;
  private int cid;

  public static WsClient connect(URI uri) throws Exception {
    WsClient client = new WsClient();
    client.session = ContainerProvider.getWebSocketContainer()
        .connectToServer(client, ClientEndpointConfig.Builder.create().build(), uri);
    return client;
  }

  @Override
  public void onOpen(Session session, EndpointConfig config) {
    this.session = session; // before connectToServer returns: a ping may come first
    session.addMessageHandler(String.class, (MessageHandler.Whole<String>) text -> {
      if (text.isEmpty()) {
        pings.incrementAndGet();
        if (answerPings) {
          try {
            write("");
          } catch (IOException | IllegalStateException closing) {
            // The socket is closing: the pong no longer matters.
          }
        }
        return;
      }
      messages.add(text);
    });
  }

  @Override
  public void onClose(Session session, CloseReason reason) {
    closed.complete(reason);
  }

  @Override
  public void onError(Session session, Throwable error) {
    closed.completeExceptionally(error);
  }

  public void answerPings(boolean answer) {
    answerPings = answer;
  }

  /** How many pings ('') the server has sent this client so far, answered or not. */
  public int pings() {
    return pings.get();
  }

  /** Sends #handshake and returns the answer's data ({id, pingTimeout, isAuthenticated}). */
  public Map<String, Object> handshake() throws Exception {
    return call("#handshake", Map.of());
  }

  /** Invokes a procedure; returns the whole response ({rid, data} or {rid, error}). */
  public Map<String, Object> invoke(String procedure, Object data) throws Exception {
    int id = send(procedure, data);
    return response(id);
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> call(String event, Object data) throws Exception {
    Map<String, Object> response = invoke(event, data);
    if (response.containsKey("error")) {
      throw new IllegalStateException(event + " failed: " + response);
    }
    return (Map<String, Object>) response.get("data");
  }

  private synchronized int send(String event, Object data) throws IOException {
    Map<String, Object> packet = new LinkedHashMap<>();
    packet.put("event", event);
    packet.put("data", data);
    packet.put("cid", ++cid);
    write(JSON.writeValueAsString(packet));
    return cid;
  }

  /**
   * Every write of this client, pongs and closes included, one at a time: Liberty's client refuses
   * a write while another is in progress ("write not allowed"), as an asynchronous pong could be.
   * (A close does not wait for message handlers, which may close themselves: no deadlock.)
   */
  private synchronized void write(String text) throws IOException {
    session.getBasicRemote().sendText(text);
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> response(int rid) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      long left = deadline - System.nanoTime();
      String text = messages.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
      if (text == null) {
        throw new IllegalStateException("no response to cid " + rid + " within 10 s");
      }
      Object packet = JSON.readValue(text, Object.class);
      if (packet instanceof Map<?, ?> map && Integer.valueOf(rid).equals(map.get("rid"))) {
        return (Map<String, Object>) map;
      }
    }
  }

  /** The close the server (or this client) made, waiting up to timeoutMillis. */
  public CloseReason awaitClose(long timeoutMillis) throws Exception {
    return closed.get(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  public synchronized void close(int code, String reason) throws IOException {
    session.close(new CloseReason(CloseReason.CloseCodes.getCloseCode(code), reason));
  }

  @Override
  public synchronized void close() throws IOException {
    if (session != null && session.isOpen()) {
      session.close();
    }
  }
}
