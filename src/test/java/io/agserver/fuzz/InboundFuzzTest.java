package io.agserver.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import io.agserver.AGServer;
import io.agserver.AGServerSocket;
import io.agserver.AGUpgradeRequest;
import io.agserver.TestAccess;
import io.agserver.codec.JsonCodec;
import io.agserver.config.AGServerOptions;
import io.agserver.ops.ServerFigures;
import io.agserver.transport.AGTransport;

/**
 * The inbound dispatcher against any sequence of frames: every frame goes into a socket of a real
 * server (workers run inline, a clock that does not move) over a transport that takes every send at
 * once. No exception escapes the socket; once the frames are in, nothing of them still waits (the
 * socket never stalls) unless the socket was closed; once it is gone, the server's counts are back
 * to where they started: no connection, client, subscription, channel or queued character is left
 * behind.
 */
class InboundFuzzTest {

  private static final JsonCodec CODEC = JsonCodec.instance();
  private static final String[] EVENTS = {"#handshake", "#subscribe", "#unsubscribe", "#publish", "#authenticate",
      "#removeAuthToken", "#history", "#presence", "echo", "note", "#disconnect", "#1", "#2", ""};
  private static final String[] CHANNELS = {"a", "b", "h/1", "p/1", "#presence:p/1", "", "h/*"};

  private static AGServer server;
  private static final AtomicInteger WARNINGS = new AtomicInteger();

  private static synchronized AGServer server() {
    if (server == null) {
      Map<String, String> config = Map.of("socketcluster.history.channels", "h/*",
          "socketcluster.presence.channels", "p/*", "socketcluster.authKey", "fuzzing-key-fuzzing-key-fuzzing-key!");
      AGServerOptions options = AGServerOptions.from(key -> Optional.ofNullable(config.get(key)));
      InstantSource still = InstantSource.fixed(Instant.parse("2026-01-01T00:00:00Z"));
      server = new AGServer(options, null, event -> WARNINGS.incrementAndGet(), null, Runnable::run, still);
    }
    return server;
  }

  @FuzzTest
  void frames(FuzzedDataProvider data) {
    AGServer server = server();
    Transport transport = new Transport();
    AGServerSocket socket = TestAccess.accept(server, transport, new AGUpgradeRequest(
        URI.create("ws://localhost/socketcluster/"), Map.of(), Map.of(), "127.0.0.1", 5555, false));
    socket.procedure("echo").consume(request -> request.end(request.data()));
    socket.receiver("note").consume(value -> {});
    int frames = data.consumeInt(1, 24);
    for (int i = 0; i < frames && data.remainingBytes() > 0; i++) {
      TestAccess.receive(socket, frame(data));
    }
    if (socket.state() != AGServerSocket.State.CLOSED) {
      assertEquals(0, socket.getInboundBackpressure(), "messages still wait in the socket: it stalled");
    }
    socket.disconnect();
    ServerFigures.Snapshot after = server.figures().snapshot();
    assertEquals(0, server.clientsCount() + server.pendingClientsCount(), "sockets left");
    assertEquals(0, after.connections(), "connections left");
    assertEquals(0, after.subscriptions(), "subscriptions left");
    assertEquals(0, after.channels(), "channels left");
    assertEquals(0, after.outboundWaitingCharacters(), "characters left waiting");
    assertTrue(transport.closed || socket.state() == AGServerSocket.State.CLOSED);
  }

  private static String frame(FuzzedDataProvider data) {
    switch (data.consumeInt(0, 5)) {
      case 0:
        return data.consumeString(120);
      case 1:
        return data.pickValue(new String[] {"#1", "#2", "", "[]", "{}", "null", "[null]"});
      case 2: {
        List<Object> batch = new ArrayList<>();
        int n = data.consumeInt(0, 4);
        for (int i = 0; i < n; i++) {
          batch.add(packet(data));
        }
        return CODEC.encode(batch);
      }
      default:
        return CODEC.encode(packet(data));
    }
  }

  private static Object packet(FuzzedDataProvider data) {
    Map<String, Object> packet = new LinkedHashMap<>();
    if (data.consumeInt(0, 7) == 0) {
      packet.put("rid", data.consumeInt(-1, 8));
      packet.put(data.consumeBoolean() ? "data" : "error", value(data, 0));
      return packet;
    }
    packet.put("event", data.consumeInt(0, 9) == 0 ? data.consumeString(16) : data.pickValue(EVENTS));
    if (data.consumeBoolean()) {
      packet.put("data", data.consumeBoolean() ? value(data, 0) : channelData(data));
    }
    if (data.consumeInt(0, 3) > 0) {
      packet.put("cid", data.consumeInt(0, 3) == 0 ? value(data, 2) : data.consumeInt(-1, 8));
    }
    return packet;
  }

  /** What #subscribe, #publish, #unsubscribe, #history and #presence take, more or less. */
  private static Object channelData(FuzzedDataProvider data) {
    Map<String, Object> channel = new LinkedHashMap<>();
    channel.put("channel", data.consumeInt(0, 5) == 0 ? value(data, 2) : data.pickValue(CHANNELS));
    if (data.consumeBoolean()) {
      channel.put("data", value(data, 1));
    }
    if (data.consumeBoolean()) {
      channel.put(data.pickValue(new String[] {"offset", "epoch", "limit", "since", "recover", "batch"}), value(data, 2));
    }
    return data.consumeInt(0, 4) == 0 ? channel.get("channel") : channel;
  }

  private static Object value(FuzzedDataProvider data, int depth) {
    switch (data.consumeInt(0, depth > 3 ? 5 : 7)) {
      case 0: return null;
      case 1: return data.consumeBoolean();
      case 2: return data.consumeInt();
      case 3: return data.consumeDouble();
      case 4: return data.consumeString(24);
      case 5: return data.consumeLong();
      case 6: {
        List<Object> list = new ArrayList<>();
        for (int i = data.consumeInt(0, 3); i > 0; i--) {
          list.add(value(data, depth + 1));
        }
        return list;
      }
      default: {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = data.consumeInt(0, 3); i > 0; i--) {
          map.put(data.consumeString(10), value(data, depth + 1));
        }
        return map;
      }
    }
  }

  /** Takes every send at once and keeps nothing. */
  private static final class Transport implements AGTransport {
    volatile boolean closed;

    @Override
    public void sendText(String text, Consumer<Throwable> done) {
      done.accept(null);
    }

    @Override
    public void sendBinary(ByteBuffer bytes, Consumer<Throwable> done) {
      done.accept(null);
    }

    @Override
    public void close(int code, String reason) {
      closed = true;
    }

    @Override
    public void terminate() {
      closed = true;
    }
  }
}
