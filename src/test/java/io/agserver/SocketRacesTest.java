package io.agserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.agserver.config.AGServerOptions;
import io.agserver.core.PendingInvokes;
import io.agserver.event.AGWarningEvent;
import io.agserver.codec.AGCodec;
import io.agserver.protocol.AGError;
import io.agserver.protocol.CloseCodes;
import io.agserver.codec.JsonCodec;
import io.agserver.transport.AGTransport;

/**
 * The races at the edges of a socket's life, each made to happen: a hook holds one side at the
 * point where the other used to overtake it, and the test waits until the other side has either
 * finished (the bug) or is waiting for the first (the fix).
 */
class SocketRacesTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private final List<Object> events = new CopyOnWriteArrayList<>();
  private AGServer server;

  @AfterEach
  void close() {
    if (server != null) {
      server.close();
    }
  }

  private AGServer server(Map<String, String> config) {
    server = new AGServer(TestServers.options(config), null, events::add, null);
    return server;
  }

  private AGServerSocket handshaken(AGServer on, AGTransport transport) {
    AGServerSocket socket = on.accept(transport, TestServers.request());
    socket.receive("{\"event\":\"#handshake\",\"cid\":1}");
    assertEquals(AGServerSocket.OPEN, socket.state());
    return socket;
  }

  /** Runs {@code task} on a new thread and waits until it has finished or waits for a lock. */
  private static Thread runUntilDoneOrBlocked(Runnable task) {
    Thread thread = new Thread(task, "race");
    thread.start();
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> !thread.isAlive() || thread.getState() == Thread.State.BLOCKED);
    return thread;
  }

  static void await(CountDownLatch latch) {
    try {
      assertTrue(latch.await(WAIT.toSeconds(), TimeUnit.SECONDS), "latch");
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  // ---- a socket destroyed while its handshake completes ----

  /** Holds the move from pending to connected until released. */
  private static final class HeldOpenServer extends AGServer {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    HeldOpenServer(AGServerOptions options) {
      super(options, null, null, null);
    }

    @Override
    void socketOpened(AGServerSocket socket) {
      entered.countDown();
      SocketRacesTest.await(release);
      super.socketOpened(socket);
    }
  }

  @Test
  void socketDestroyedWhileItsHandshakeCompletesIsNotLeftAmongTheClients() throws Exception {
    HeldOpenServer held = new HeldOpenServer(TestServers.options(Map.of()));
    try {
      AGServerSocket socket = held.accept(new FakeTransport(), TestServers.request());
      Thread opener = new Thread(() -> socket.context().open(), "open");
      opener.start();
      await(held.entered);
      Thread closer = runUntilDoneOrBlocked(() -> socket.destroy(CloseCodes.ABNORMAL, null));
      held.release.countDown();
      opener.join(WAIT.toMillis());
      closer.join(WAIT.toMillis());

      assertEquals(AGServerSocket.CLOSED, socket.state());
      assertFalse(held.clients().containsKey(socket.id()), "a closed socket among the clients");
      assertFalse(held.pendingClients().containsKey(socket.id()), "a closed socket among the pending");
      assertEquals(0, held.clientsCount());
    } finally {
      held.close();
    }
  }

  @Test
  void observersOfADisconnectionNoLongerFindTheSocketAmongTheClients() {
    List<Boolean> listed = new CopyOnWriteArrayList<>();
    AGServer[] current = new AGServer[1];
    server = new AGServer(TestServers.options(Map.of()), null, event -> {
      if (event instanceof io.agserver.event.AGDisconnectionEvent d) {
        listed.add(current[0].clients().containsKey(d.socket().id()));
      } else if (event instanceof io.agserver.event.AGClosureEvent c) {
        listed.add(current[0].clients().containsKey(c.socket().id()));
      }
    }, null);
    current[0] = server;
    AGServerSocket socket = handshaken(server, new FakeTransport());
    socket.disconnect();
    assertEquals(List.of(false, false), listed);
  }

  // ---- an invoke racing a close ----

  @Test
  void invokeRegisteredAfterTheCloseFailsAtOnce() {
    PendingInvokes invokes = new PendingInvokes();
    invokes.abortAll("disconnect", CloseCodes.NORMAL, "bye");
    CompletableFuture<Object> result = new CompletableFuture<>();
    invokes.register("late", Long.MAX_VALUE, result);

    assertTrue(result.isCompletedExceptionally(), "an invoke after the close never completes");
    AGError error = assertInstanceOf(AGError.class, result.handle((ok, e) -> e).join());
    assertEquals("BadConnectionError", error.name());
    assertEquals("disconnect", error.get("type"));
  }

  @Test
  void invokesWaitingWhenTheSocketClosesFailOnce() {
    PendingInvokes invokes = new PendingInvokes();
    CompletableFuture<Object> first = new CompletableFuture<>();
    invokes.register("first", Long.MAX_VALUE, first);
    invokes.abortAll("disconnect", CloseCodes.NORMAL, null);
    invokes.abortAll("connectAbort", CloseCodes.ABNORMAL, null);
    AGError error = assertInstanceOf(AGError.class, first.handle((ok, e) -> e).join());
    assertEquals("disconnect", error.get("type"));
  }

  // ---- batching keeps the order ----

  /** The default codec, except that encoding a batch waits until released. */
  private static final class HeldBatchCodec implements AGCodec {
    final CountDownLatch encodingBatch = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public Object decode(String message) {
      return JsonCodec.instance().decode(message);
    }

    @Override
    public Object decode(ByteBuffer binary) {
      return JsonCodec.instance().decode(binary);
    }

    @Override
    public String encode(Object value) {
      if (value instanceof List<?>) {
        encodingBatch.countDown();
        SocketRacesTest.await(release);
      }
      return JsonCodec.instance().encode(value);
    }
  }

  @Test
  void aPacketSentWhileTheBatchIsFlushedLeavesAfterTheBatch() throws Exception {
    HeldBatchCodec codec = new HeldBatchCodec();
    server = new AGServer(TestServers.options(Map.of()), codec, events::add, null);
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(server, transport);
    socket.startBatch();
    socket.transmit("first", 1);

    Thread flusher = new Thread(socket::flushBatch, "flush");
    flusher.start();
    await(codec.encodingBatch);
    Thread sender = runUntilDoneOrBlocked(() -> socket.transmit("second", 2));
    codec.release.countDown();
    flusher.join(WAIT.toMillis());
    sender.join(WAIT.toMillis());

    List<String> packets = transport.packets();
    assertEquals(List.of("[{\"event\":\"first\",\"data\":1}]", "{\"event\":\"second\",\"data\":2}"),
        packets.subList(1, packets.size()), "after the handshake's answer: " + packets);
  }

  @Test
  void aResponseWhileABatchIsOpenJoinsTheBatch() {
    server(Map.of());
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(server, transport);
    socket.procedure("echo").consume(request -> request.end(request.data()));
    socket.startBatch();
    socket.transmit("before", 0);
    socket.receive("{\"event\":\"echo\",\"data\":5,\"cid\":2}");
    socket.flushBatch();
    List<String> packets = transport.packets();
    assertEquals("[{\"event\":\"before\",\"data\":0},{\"rid\":2,\"data\":5}]", packets.get(packets.size() - 1));
  }

  // ---- a failed send ----

  /** Every send fails, as a connection reset would. */
  private static final class FailingTransport implements AGTransport {
    volatile boolean dropped;
    volatile Integer closeCode;

    @Override
    public void sendText(String text, Consumer<Throwable> done) {
      done.accept(new IOException("Connection reset by peer"));
    }

    @Override
    public void sendBinary(ByteBuffer data, Consumer<Throwable> done) {
      done.accept(new IOException("Connection reset by peer"));
    }

    @Override
    public void close(int code, String reason) {
      closeCode = code;
    }

    @Override
    public void terminate() {
      dropped = true;
    }
  }

  @Test
  void aFailedSendDropsTheConnectionItDestroys() {
    server(Map.of());
    FailingTransport transport = new FailingTransport();
    AGServerSocket socket = server.accept(transport, TestServers.request());
    socket.receive("{\"event\":\"#handshake\",\"cid\":1}");

    assertEquals(AGServerSocket.CLOSED, socket.state());
    assertTrue(transport.dropped || transport.closeCode != null, "the session is left open and unmanaged");
    assertEquals(0, server.clientsCount() + server.pendingClientsCount());
  }

  // ---- completed futures are the caller's own ----

  @Test
  void oneCallersObtrudedResultDoesNotPoisonAnother() {
    server(Map.of());
    AGServerSocket a = handshaken(server, new FakeTransport());
    AGServerSocket b = handshaken(server, new FakeTransport());
    a.deauthenticate().toCompletableFuture().obtrudeException(new IllegalStateException("mine"));
    CompletableFuture<Void> other = b.deauthenticate().toCompletableFuture();
    assertTrue(other.isDone() && !other.isCompletedExceptionally(), "poisoned: " + other);
    CompletableFuture<Void> set = b.setAuthToken(Map.of("username", "bob")).toCompletableFuture();
    set.obtrudeException(new IllegalStateException("mine"));
    assertFalse(a.setAuthToken(Map.of("username", "alice")).toCompletableFuture().isCompletedExceptionally());
  }

  // ---- the auth state is one value ----

  /** Token data whose reading waits until released: holds setAuthToken between its steps. */
  private static final class HeldData extends AbstractMap<String, Object> {
    final CountDownLatch reading = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public Set<Entry<String, Object>> entrySet() {
      reading.countDown();
      SocketRacesTest.await(release);
      return Map.<String, Object>of("username", "alice").entrySet();
    }
  }

  @Test
  void aReaderNeverSeesAnAuthenticatedSocketWithoutItsToken() throws Exception {
    server(Map.of());
    AGServerSocket socket = handshaken(server, new FakeTransport());
    HeldData data = new HeldData();
    Thread setter = new Thread(() -> socket.setAuthToken(data), "setAuthToken");
    setter.start();
    await(data.reading);
    AGServerSocket.AuthState state = socket.authState();
    Map<String, Object> token = socket.authToken();
    data.release.countDown();
    setter.join(WAIT.toMillis());

    assertEquals(state.equals(AGServerSocket.AUTHENTICATED), token != null,
        "authState " + state + " with token " + token);
    assertEquals(AGServerSocket.AUTHENTICATED, socket.authState());
    assertEquals("alice", socket.authToken().get("username"));
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> socket.signedAuthToken() != null);
  }

  // ---- no socket after close ----

  @Test
  void acceptAfterCloseClosesTheConnection() {
    server(Map.of());
    server.close();
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = server.accept(transport, TestServers.request());
    assertEquals(AGServerSocket.CLOSED, socket.state());
    assertEquals(CloseCodes.GOING_AWAY, transport.closeCode);
    assertEquals(0, server.pendingClientsCount());
    socket.receive("{\"event\":\"#handshake\",\"cid\":1}");
    assertEquals(0, server.clientsCount());
    assertTrue(transport.packets().isEmpty(), "nothing is answered: " + transport.packets());
  }

  // ---- bounded inbound queue ----

  @Test
  void aClientThatFloodsAHeldSocketIsClosedWith1008() {
    server(Map.of("inboundBufferLimit", "5"));
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(server, transport);
    CompletableFuture<Void> held = new CompletableFuture<>();
    server.setMiddlewareBeans(List.of((io.agserver.middleware.InboundMiddleware) action -> held),
        bean -> 1);
    for (int i = 0; i < 6; i++) { // the one held, and 5 waiting behind it
      socket.receive("{\"event\":\"chat\",\"data\":" + i + "}");
    }
    assertEquals(AGServerSocket.OPEN, socket.state());
    socket.receive("{\"event\":\"chat\",\"data\":6}");
    assertEquals(AGServerSocket.CLOSED, socket.state());
    assertEquals(CloseCodes.POLICY_VIOLATION, transport.closeCode);
    assertTrue(events.stream().anyMatch(e -> e instanceof AGWarningEvent w
        && w.warning() instanceof AGError error && error.name().equals("ResourceLimitError")), "warning: " + events);
    held.complete(null);
  }

  @Test
  void publishesWaitingForTheBrokerAreBoundedByTheInboundQueue() {
    server(Map.of("inboundBufferLimit", "5", "brokerEngine", AcknowledgesLater.class.getName()));
    AcknowledgesLater broker = (AcknowledgesLater) server.broker();
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(server, transport);
    int window = 64;
    // The window's publishes go to the broker at once; the next one too, and then it holds the
    // inbound queue, behind which 5 more may wait.
    for (int i = 0; i < window + 1 + 5; i++) {
      socket.receive("{\"event\":\"#publish\",\"data\":{\"channel\":\"c\",\"data\":" + i + "},\"cid\":" + (i + 2) + "}");
    }
    assertEquals(window + 1, broker.pending.size());
    assertEquals(AGServerSocket.OPEN, socket.state());
    socket.receive("{\"event\":\"#publish\",\"data\":{\"channel\":\"c\",\"data\":0},\"cid\":999}");
    assertEquals(AGServerSocket.CLOSED, socket.state());
    assertEquals(CloseCodes.POLICY_VIOLATION, transport.closeCode);
    broker.pending.forEach(ack -> ack.complete(null));
  }

  @Test
  void aPublishAcknowledgedLaterLetsTheWaitingOnesIn() {
    server(Map.of("brokerEngine", AcknowledgesLater.class.getName()));
    AcknowledgesLater broker = (AcknowledgesLater) server.broker();
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(server, transport);
    for (int i = 0; i < 100; i++) {
      socket.receive("{\"event\":\"#publish\",\"data\":{\"channel\":\"c\",\"data\":" + i + "},\"cid\":" + (i + 2) + "}");
    }
    assertEquals(65, broker.pending.size());
    // Each acknowledgement answers its publish and lets one more in, until all were taken.
    for (int acknowledged = 0; acknowledged < 100; acknowledged++) {
      broker.pending.get(acknowledged).complete(null);
    }
    assertEquals(100, broker.pending.size());
    assertEquals(AGServerSocket.OPEN, socket.state());
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> transport.packets().stream()
        .filter(packet -> packet.startsWith("{\"rid\"") && !packet.startsWith("{\"rid\":1,")).count() == 100);
  }

  @Test
  void publishAnswersLeaveInTheOrderOfThePublishesWhateverTheOrderOfTheAcknowledgements() {
    server(Map.of("brokerEngine", AcknowledgesLater.class.getName()));
    AcknowledgesLater broker = (AcknowledgesLater) server.broker();
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(server, transport);
    for (int i = 0; i < 3; i++) {
      socket.receive("{\"event\":\"#publish\",\"data\":{\"channel\":\"c\",\"data\":" + i + "},\"cid\":" + (i + 2) + "}");
    }
    broker.pending.get(2).complete(null);
    broker.pending.get(1).completeExceptionally(AGError.broker("refused"));
    broker.pending.get(0).complete(null);
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> transport.packets().size() == 4);
    List<String> answers = transport.packets().subList(1, 4);
    assertEquals("{\"rid\":2}", answers.get(0));
    assertTrue(answers.get(1).startsWith("{\"rid\":3,\"error\":"), answers.get(1));
    assertEquals("{\"rid\":4}", answers.get(2));
  }

  @Test
  void aSocketThatClosesWhileItJoinsAPresenceChannelLeavesIt() {
    server(Map.of("brokerEngine", AcknowledgesLater.class.getName(), "presence.channels", "room"));
    AcknowledgesLater broker = (AcknowledgesLater) server.broker();
    FakeTransport transport = new FakeTransport();
    AGServerSocket socket = handshaken(server, transport);
    socket.receive("{\"event\":\"#subscribe\",\"data\":{\"channel\":\"room\"},\"cid\":2}");
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> broker.joins.size() == 1);
    socket.disconnect();
    broker.joins.get(0).complete(null);
    assertTrue(server.exchange().presence("room").toCompletableFuture().join().isEmpty(),
        "the closed socket is not left in the channel's presence");
  }

  /** A broker engine that acknowledges publishes when the test says so. */
  public static final class AcknowledgesLater implements io.agserver.pubsub.BrokerEngine {
    final List<CompletableFuture<Void>> pending = new CopyOnWriteArrayList<>();
    private final io.agserver.pubsub.AGSimpleBroker local = new io.agserver.pubsub.AGSimpleBroker();

    @Override
    public java.util.concurrent.CompletionStage<Void> invokePublish(String channel, Object data) {
      CompletableFuture<Void> ack = new CompletableFuture<>();
      pending.add(ack);
      return ack;
    }

    final List<CompletableFuture<Void>> joins = new CopyOnWriteArrayList<>();

    @Override
    public java.util.concurrent.CompletionStage<Void> subscribeSocket(io.agserver.pubsub.AGSubscriber subscriber, String channel) {
      return local.subscribeSocket(subscriber, channel);
    }

    @Override
    public java.util.concurrent.CompletionStage<Void> joinPresence(String channel, io.agserver.pubsub.PresenceMember member,
        Duration ttl) {
      CompletableFuture<Void> joined = new CompletableFuture<>();
      joins.add(joined);
      return local.joinPresence(channel, member, ttl).thenCompose(ok -> joined);
    }

    @Override
    public java.util.concurrent.CompletionStage<Void> leavePresence(String channel, String memberId) {
      return local.leavePresence(channel, memberId);
    }

    @Override
    public java.util.concurrent.CompletionStage<List<io.agserver.pubsub.PresenceMember>> presence(String channel) {
      return local.presence(channel);
    }

    @Override
    public java.util.concurrent.CompletionStage<Void> unsubscribeSocket(io.agserver.pubsub.AGSubscriber subscriber, String channel) {
      return local.unsubscribeSocket(subscriber, channel);
    }

    @Override
    public java.util.concurrent.CompletionStage<Void> transmitPublish(String channel, Object data) {
      return local.transmitPublish(channel, data);
    }

    @Override
    public List<String> subscriptions() {
      return local.subscriptions();
    }

    @Override
    public boolean isSubscribed(String channel) {
      return local.isSubscribed(channel);
    }

    @Override
    public void setCodecEngine(AGCodec codec) {
      local.setCodecEngine(codec);
    }

    @Override
    public java.util.concurrent.CompletionStage<Void> ready() {
      return local.ready();
    }

    @Override
    public void onError(Consumer<Throwable> handler) {
      local.onError(handler);
    }

    @Override
    public void close() {
      local.close();
    }
  }
}
