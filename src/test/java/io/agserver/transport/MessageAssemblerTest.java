package io.agserver.transport;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.agserver.AGServer;
import io.agserver.AGServerSocket;
import io.agserver.AGUpgradeRequest;
import io.agserver.TestAccess;
import io.agserver.config.AGServerOptions;
import io.agserver.event.AGSocketEvent;
import io.agserver.event.AGWarningEvent;
import io.agserver.protocol.AGError;

/** maxPayload bounds a fragmented message as a whole; single frames pass straight through. */
class MessageAssemblerTest {

  private static final String HANDSHAKE = "{\"event\":\"#handshake\",\"cid\":1}";

  private final List<Object> events = new CopyOnWriteArrayList<>();
  private final Recording transport = new Recording();
  private AGServer server;
  private AGServerSocket socket;
  private MessageAssembler assembler;
  private final List<Object> received = new CopyOnWriteArrayList<>();

  private void start(long maxPayload) {
    stop();
    transport.closeCode = null;
    Map<String, String> config = Map.of("maxPayload", Long.toString(maxPayload));
    AGServerOptions options = AGServerOptions.from(key -> Optional.ofNullable(
        config.get(key.substring(AGServerOptions.PREFIX.length()))));
    server = new AGServer(options, null, events::add, null);
    socket = TestAccess.accept(server, transport, new AGUpgradeRequest(URI.create("ws://localhost/socketcluster/"),
        Map.of(), Map.of(), "127.0.0.1", 5555, false));
    assembler = new MessageAssembler(TestAccess.connection(socket), maxPayload);
  }

  /** Completes the handshake and collects what reaches the socket's "p" receiver. */
  private void open() {
    assembler.onText(HANDSHAKE, true);
    assertEquals(AGServerSocket.OPEN, socket.state());
    socket.receiver("p").consume(received::add);
  }

  private static String transmit(String data) {
    return "{\"event\":\"p\",\"data\":\"" + data + "\"}";
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void singleFramesGoStraightThrough() {
    start(1000);
    open();
    assembler.onText(transmit("one"), true);
    assembler.onBinary(ByteBuffer.wrap(transmit("two").getBytes(StandardCharsets.UTF_8)), true);
    assertEquals(List.of("one", "two"), received);
  }

  @Test
  void aBinaryFrameIsCopiedBeforeTheContainerReusesItsBuffer() {
    start(1000);
    open();
    List<Object> raw = new CopyOnWriteArrayList<>();
    socket.listener("raw").consume(event -> raw.add(((AGSocketEvent.Raw) event).message()));
    // A container's read buffer: the frame is a view of it, filled again after the handler returns.
    byte[] containerBuffer = new byte[64];
    byte[] first = "first-raw".getBytes(StandardCharsets.UTF_8);
    System.arraycopy(first, 0, containerBuffer, 8, first.length);
    assembler.onBinary(ByteBuffer.wrap(containerBuffer, 8, first.length), true);
    Arrays.fill(containerBuffer, (byte) 'x');

    // A message that waits in the socket's queue behind a middleware that has not answered.
    CompletableFuture<Void> hold = new CompletableFuture<>();
    server.setMiddleware(AGServer.MIDDLEWARE_INBOUND_RAW, actions -> actions.consume(action -> {
      if (hold.isDone()) {
        action.allow();
      } else {
        hold.thenRun(action::allow);
      }
    }));
    assembler.onText(transmit("held"), true);
    byte[] second = "second-raw".getBytes(StandardCharsets.UTF_8);
    System.arraycopy(second, 0, containerBuffer, 0, second.length);
    assembler.onBinary(ByteBuffer.wrap(containerBuffer, 0, second.length), true);
    Arrays.fill(containerBuffer, (byte) 'y');
    hold.complete(null);

    await().atMost(Duration.ofSeconds(5)).until(() -> raw.size() == 2);
    assertEquals("first-raw", text(raw.get(0)));
    assertEquals("second-raw", text(raw.get(1)));
    assertEquals(List.of("held"), received);
  }

  private static String text(Object message) {
    ByteBuffer bytes = ((ByteBuffer) message).duplicate();
    byte[] array = new byte[bytes.remaining()];
    bytes.get(array);
    return new String(array, StandardCharsets.UTF_8);
  }

  @Test
  void fragmentsAreReassembled() {
    start(1000);
    assembler.onText("{\"event\":\"#hand", false);
    assembler.onText("shake\",\"ci", false);
    assembler.onText("d\":1}", true);
    assertEquals(AGServerSocket.OPEN, socket.state());
    socket.receiver("p").consume(received::add);

    String packet = transmit("héllo");
    assembler.onText(packet.substring(0, 10), false);
    assembler.onText(packet.substring(10), true);
    byte[] bytes = transmit("bin").getBytes(StandardCharsets.UTF_8);
    assembler.onBinary(ByteBuffer.wrap(bytes, 0, 3), false);
    assembler.onBinary(ByteBuffer.wrap(bytes, 3, 5), false);
    assembler.onBinary(ByteBuffer.wrap(bytes, 8, bytes.length - 8), true);
    // A fragmented message after a single frame, and a single frame after it: state resets.
    assembler.onText(transmit("after"), true);
    assertEquals(List.of("héllo", "bin", "after"), received);
  }

  @Test
  void fragmentsUpToMaxPayloadAreAccepted() {
    start(100);
    open();
    String packet = transmit("x".repeat(100 - transmit("").length()));
    assertEquals(100, packet.length());
    assembler.onText(packet.substring(0, 50), false);
    assembler.onText(packet.substring(50), true);
    assertEquals(1, received.size());
    assertEquals(null, transport.closeCode);
  }

  @Test
  void fragmentsOverMaxPayloadCloseWith1009WithoutAReason() {
    start(100);
    open();
    assembler.onText("x".repeat(60), false);
    assertEquals(null, transport.closeCode);
    assembler.onText("x".repeat(41), false);
    assertEquals(1009, transport.closeCode);
    assertEquals("", transport.closeReason == null ? "" : transport.closeReason, "ws closes with the bare code");
    assertEquals(AGServerSocket.CLOSED, socket.state());
    assertEquals(0, server.clientsCount());
    assertTrue(events.stream().anyMatch(e -> e instanceof AGWarningEvent w
        && w.warning() instanceof AGError error && "RangeError".equals(error.name())), "warning: " + events);
    // The rest of the message is dropped.
    assembler.onText("x".repeat(10), true);
    assertEquals(List.of(), received);
  }

  @Test
  void maxPayloadCountsBytesNotCharacters() {
    start(40);
    open();
    assembler.onBinary(ByteBuffer.wrap(new byte[30]), false);
    assembler.onBinary(ByteBuffer.wrap(new byte[11]), true);
    assertEquals(1009, transport.closeCode);

    start(40);
    open();
    assembler.onText("é".repeat(16), false); // 32 bytes
    assembler.onText("éééé", true); // 40 bytes: still within
    assertEquals(null, transport.closeCode);
    assembler.onText("é".repeat(16), false);
    assembler.onText("é".repeat(5), true); // 42 bytes in 21 characters
    assertEquals(1009, transport.closeCode);
  }

  @Test
  void singleFrameOverMaxPayloadClosesWith1009() {
    start(100);
    open();
    assembler.onText("x".repeat(100), true); // a raw message of exactly maxPayload: fine
    assertEquals(null, transport.closeCode);
    assembler.onText("é".repeat(51), true); // 51 characters, 102 bytes
    assertEquals(1009, transport.closeCode);

    start(100);
    open();
    assembler.onBinary(ByteBuffer.wrap(new byte[101]), true);
    assertEquals(1009, transport.closeCode);
  }

  @Test
  void containerLimitLeavesRoomAboveMaxPayload() {
    assertEquals(2 * 1024 * 1024, MessageAssembler.containerLimit(1024 * 1024));
    assertEquals(200, MessageAssembler.containerLimit(100));
    assertEquals(100 * 1024 * 1024 + 1024 * 1024, MessageAssembler.containerLimit(100 * 1024 * 1024));
    assertEquals(Integer.MAX_VALUE, MessageAssembler.containerLimit(Long.MAX_VALUE / 4));
  }

  @Test
  void utf8Length() {
    assertEquals(0, MessageAssembler.utf8Length(""));
    assertEquals(1 + 2 + 3 + 4, MessageAssembler.utf8Length("aé€😀"));
    assertEquals("aé€😀".getBytes(StandardCharsets.UTF_8).length, MessageAssembler.utf8Length("aé€😀"));
  }

  /** Sends complete at once; records the close. */
  private static final class Recording implements AGTransport {
    volatile Integer closeCode;
    volatile String closeReason;

    @Override
    public void sendText(String text, Consumer<Throwable> done) {
      done.accept(null);
    }

    @Override
    public void sendBinary(ByteBuffer data, Consumer<Throwable> done) {
      done.accept(null);
    }

    @Override
    public void close(int code, String reason) {
      if (closeCode == null) {
        closeCode = code;
        closeReason = reason;
      }
    }

    @Override
    public void terminate() {
      // nothing to drop
    }
  }
}
