package io.agserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.agserver.ops.ServerFigures;
import io.agserver.ops.ServerFigures.Snapshot;
import io.agserver.protocol.AGError;
import io.agserver.transport.AGTransport;

/**
 * The server's figures against sockets on recording transports: each count moves by what
 * happened, once, and what the server holds is read from it.
 */
class ServerFiguresTest {

  private AGServer server;

  private AGServer server(Map<String, String> config) {
    server = new AGServer(TestServers.options(config), null, event -> {}, null);
    return server;
  }

  @AfterEach
  void close() {
    if (server != null) {
      server.close();
    }
  }

  private Snapshot figures() {
    return server.figures().snapshot();
  }

  /** A socket as the transport drives it: every message through its connection. */
  private AGServerSocket accept(AGTransport transport) {
    return server.accept(transport, TestServers.request());
  }

  private static void receive(AGServerSocket socket, Object message) {
    socket.connection().receive(message);
  }

  private AGServerSocket handshaken(AGTransport transport) {
    AGServerSocket socket = accept(transport);
    receive(socket, "{\"event\":\"#handshake\",\"cid\":1}");
    return socket;
  }

  private static long utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8).length;
  }

  @Test
  void connectionsAndHandshakesAreCountedAndTheOpenOnesReadFromTheServer() {
    server(Map.of());
    AGServerSocket first = accept(new FakeTransport());
    handshaken(new FakeTransport());
    Snapshot now = figures();
    assertEquals(2, now.connectionsAccepted());
    assertEquals(1, now.handshakes());
    assertEquals(2, now.connections());
    assertEquals(1, now.clients());

    // A repeated #handshake is answered again, not counted again.
    receive(first, "{\"event\":\"#handshake\",\"cid\":1}");
    receive(first, "{\"event\":\"#handshake\",\"cid\":2}");
    now = figures();
    assertEquals(2, now.handshakes());
    assertEquals(2, now.clients());
    assertEquals(0, now.connectionsClosed());
  }

  @Test
  void messagesAndTheirUtf8BytesAreCountedBothWays() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = accept(transport);
    socket.procedure("echo").consume(request -> request.end(request.data()));
    String handshake = "{\"event\":\"#handshake\",\"cid\":1}";
    String call = "{\"event\":\"echo\",\"cid\":2,\"data\":\"déjà vu 🙂\"}";
    receive(socket, handshake);
    receive(socket, call);
    receive(socket, ByteBuffer.wrap(new byte[] {1, 2, 3}));
    receive(socket, ""); // a pong

    Snapshot now = figures();
    assertEquals(4, now.messagesReceived());
    assertEquals(utf8(handshake) + utf8(call) + 3, now.bytesReceived());
    assertEquals(2, transport.texts.size());
    assertEquals(transport.texts.size(), now.messagesSent());
    assertEquals(transport.texts.stream().mapToLong(ServerFiguresTest::utf8).sum(), now.bytesSent());
    assertTrue(transport.texts.get(1).contains("déjà vu 🙂"), transport.texts.get(1));

    socket.send(ByteBuffer.wrap(new byte[] {9, 9}));
    socket.sendPing();
    now = figures();
    assertEquals(4, now.messagesSent());
    assertEquals(transport.texts.stream().mapToLong(ServerFiguresTest::utf8).sum() + 2, now.bytesSent());
  }

  @Test
  void rpcsAreCountedWhenAnsweredWithTheirErrorsAndDurations() {
    server(Map.of());
    List<Long> durations = new CopyOnWriteArrayList<>();
    server.figures().recordRpcDurations(durations::add);
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    socket.procedure("echo").consume(request -> request.end(request.data()));
    socket.procedure("fail").consume(request -> request.error(new AGError("NopeError", "no")));
    CompletableFuture<AGRequest> later = new CompletableFuture<>();
    socket.procedure("later").consume(later::complete);
    server.setMiddleware(AGServer.MIDDLEWARE_INBOUND, actions -> actions.consume(action -> {
      if ("blocked".equals(action.procedure())) {
        action.block(new AGError("BlockedError", "blocked"));
      } else {
        action.allow();
      }
    }));
    FakeTransport second = new FakeTransport();
    AGServerSocket other = handshaken(second); // after setMiddleware: its action streams exist

    receive(socket, "{\"event\":\"echo\",\"cid\":2,\"data\":1}");
    receive(socket, "{\"event\":\"fail\",\"cid\":3}");
    receive(socket, "{\"event\":\"echo\",\"data\":1}"); // a transmit: no answer, no RPC
    receive(socket, "{\"event\":\"#subscribe\",\"cid\":4,\"data\":{\"channel\":\"c\"}}"); // the protocol's own
    receive(socket, "{\"event\":\"later\",\"cid\":5}");
    Snapshot now = figures();
    assertEquals(2, now.rpcs());
    assertEquals(1, now.rpcErrors());

    later.join().end("done");
    receive(other, "{\"event\":\"blocked\",\"cid\":2}");
    now = figures();
    assertEquals(4, now.rpcs());
    assertEquals(2, now.rpcErrors());
    assertEquals(4, durations.size());
    assertTrue(durations.stream().allMatch(nanos -> nanos >= 0), durations.toString());
    assertEquals(durations.stream().mapToLong(Long::longValue).sum(), now.rpcNanos());
  }

  @Test
  void publishesDeliveriesSubscriptionsAndChannels() {
    server(Map.of());
    // Publications of 2 are not delivered.
    server.setMiddleware(AGServer.MIDDLEWARE_OUTBOUND, actions -> actions.consume(action -> {
      if (Integer.valueOf(2).equals(action.data())) {
        action.block();
      } else {
        action.allow();
      }
    }));
    FakeTransport a = new FakeTransport();
    FakeTransport b = new FakeTransport();
    AGServerSocket first = handshaken(a);
    AGServerSocket second = handshaken(b);
    receive(first, "{\"event\":\"#subscribe\",\"cid\":2,\"data\":{\"channel\":\"news\"}}");
    receive(second, "{\"event\":\"#subscribe\",\"cid\":2,\"data\":{\"channel\":\"news\"}}");
    receive(second, "{\"event\":\"#subscribe\",\"cid\":3,\"data\":{\"channel\":\"sport\"}}");
    Snapshot now = figures();
    assertEquals(3, now.subscriptions());
    assertEquals(2, now.channels());
    assertEquals(List.of(new ServerFigures.ChannelFigure("news", 2), new ServerFigures.ChannelFigure("sport", 1)),
        server.figures().live().topChannels(5));
    assertEquals(List.of(new ServerFigures.ChannelFigure("news", 2)), server.figures().live().topChannels(1));

    receive(first, "{\"event\":\"#publish\",\"cid\":3,\"data\":{\"channel\":\"news\",\"data\":\"hi\"}}");
    server.exchange().transmitPublish("sport", 1);
    server.exchange().transmitPublish("nobody", 1);
    now = figures();
    assertEquals(3, now.publishes());
    assertEquals(3, now.deliveries());

    server.exchange().transmitPublish("news", 2);
    assertEquals(4, figures().publishes());
    assertEquals(3, figures().deliveries());

    receive(second, "{\"event\":\"#unsubscribe\",\"cid\":4,\"data\":\"sport\"}");
    now = figures();
    assertEquals(2, now.subscriptions());
    assertEquals(1, now.channels());
  }

  @Test
  void closesAreCountedOncePerSocketByCode() {
    server(Map.of());
    AGServerSocket byServer = handshaken(new FakeTransport());
    AGServerSocket byClient = handshaken(new FakeTransport());
    AGServerSocket pending = accept(new FakeTransport());
    AGServerSocket odd = handshaken(new FakeTransport());

    byServer.disconnect(4100, "bye");
    byServer.connection().closed(4100, "bye"); // the transport reports the same close: not twice
    byClient.connection().closed(1000, "");
    pending.connection().closed(1006, "");
    odd.connection().closed(999, "");

    Snapshot now = figures();
    assertEquals(4, now.connectionsAccepted());
    assertEquals(4, now.connectionsClosed());
    assertEquals(Map.of("1000", 1L, "1006", 1L, "4100", 1L, ServerFigures.OTHER_CODE, 1L), now.closedByCode());
    assertEquals(List.of("1000", "1006", "4100", ServerFigures.OTHER_CODE), List.copyOf(now.closedByCode().keySet()));
    assertEquals(0, now.connections());
    assertEquals(0, now.clients());
  }

  @Test
  void clientsThatDoNotReadAreCountedWhenCutOffByTheBufferLimit() {
    server(Map.of("outboundBufferLimit", "1000"));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(transport);
    transport.hold();
    socket.transmit("a", "x".repeat(100));
    socket.transmit("a", "x".repeat(200));
    Snapshot now = figures();
    assertEquals(2, now.outboundWaitingFrames());
    long waiting = now.outboundWaitingCharacters();
    assertTrue(waiting > 300 && waiting < 400, "waiting: " + waiting);
    assertEquals(List.of(new ServerFigures.SocketFigure(socket.id(), "127.0.0.1", waiting, 2)),
        server.figures().live().slowestSockets(3));

    for (int i = 0; i < 10; i++) {
      socket.transmit("a", "x".repeat(100));
    }
    now = figures();
    assertEquals(1008, transport.closeCode);
    assertEquals(1, now.cutOffOutboundBuffer());
    assertEquals(0, now.cutOffSendTimeout());
    assertEquals(Map.of("1008", 1L), now.closedByCode());
    assertEquals(0, now.outboundWaitingCharacters());
  }

  /** A transport whose writes fail with {@code failure} once it is set. */
  private static final class FailingTransport implements AGTransport {
    volatile Throwable failure;

    @Override
    public void sendText(String text, Consumer<Throwable> done) {
      done.accept(failure);
    }

    @Override
    public void sendBinary(ByteBuffer data, Consumer<Throwable> done) {
      done.accept(null);
    }

    @Override
    public void close(int code, String reason) {}

    @Override
    public void terminate() {}
  }

  @Test
  void clientsThatDoNotReadAreCountedWhenCutOffByTheSendTimeLimitButOtherSendFailuresAreNot() {
    server(Map.of());
    FailingTransport slow = new FailingTransport();
    AGServerSocket socket = handshaken(slow);
    // As the senders fail a write past the limit (transport.JakartaTransport#check).
    slow.failure = AGError.timeout("Send timed out after 20000 ms (socketcluster.sendTimeout): the client does not read");
    socket.transmit("a", 1);
    assertEquals(AGServerSocket.CLOSED, socket.state());

    FailingTransport broken = new FailingTransport();
    AGServerSocket other = handshaken(broken);
    broken.failure = new java.io.IOException("Broken pipe");
    other.transmit("a", 1);
    assertEquals(AGServerSocket.CLOSED, other.state());
    Snapshot now = figures();
    assertEquals(1, now.cutOffSendTimeout());
    assertEquals(0, now.cutOffOutboundBuffer());
    assertEquals(Map.of("1006", 2L), now.closedByCode());
  }

  @Test
  void rateLimitedMessagesAreCountedByTheirCaller() {
    server(Map.of());
    server.figures().rateLimited();
    server.figures().rateLimited();
    assertEquals(2, figures().rateLimitedMessages());
  }

  @Test
  void ratesComeFromTwoSnapshots() {
    server(Map.of());
    Snapshot before = figures();
    AGServerSocket socket = handshaken(new FakeTransport());
    receive(socket, "{\"event\":\"x\"}");
    Snapshot after = figures();
    double elapsed = (after.nanoTime() - before.nanoTime()) / 1e9;
    assertEquals(2 / elapsed, after.perSecond(before, Snapshot::messagesReceived), 1e-6);
    assertEquals(0, after.perSecond(after, Snapshot::messagesReceived));
    assertTrue(Double.isNaN(after.rpcMeanSeconds(before)));
  }
}
