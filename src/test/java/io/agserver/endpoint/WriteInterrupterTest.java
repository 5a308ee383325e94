package io.agserver.endpoint;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * Ending a blocking write on Open Liberty: found through the session's fields as Liberty has them
 * (this test builds the same shape around a real socket), shutting the output fails the write.
 */
class WriteInterrupterTest {

  // The shape of Liberty's objects: SessionExt.getSessionImpl() -> SessionImpl.connLink ->
  // WsocConnLink.tcpConnection -> TCPConnLink.getSocketIOChannel() -> SocketIOChannel.getSocket().
  public static final class SessionExt {
    private final SessionImpl impl;

    SessionExt(Socket socket) {
      impl = new SessionImpl(socket);
    }

    public SessionImpl getSessionImpl() {
      return impl;
    }
  }

  public static final class SessionImpl {
    private final WsocConnLink connLink;

    SessionImpl(Socket socket) {
      connLink = new WsocConnLink(socket);
    }
  }

  public static final class WsocConnLink {
    private final TcpConnLink tcpConnection;

    WsocConnLink(Socket socket) {
      tcpConnection = new TcpConnLink(socket);
    }
  }

  public static final class TcpConnLink {
    private final SocketIoChannel channel;

    TcpConnLink(Socket socket) {
      channel = new SocketIoChannel(socket);
    }

    public SocketIoChannel getSocketIOChannel() {
      return channel;
    }
  }

  public static final class SocketIoChannel {
    private final Socket socket;

    SocketIoChannel(Socket socket) {
      this.socket = socket;
    }

    public Socket getSocket() {
      return socket;
    }
  }

  @Test
  void shuttingTheOutputEndsAWriteToAPeerThatDoesNotRead() throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket client = new Socket()) {
      client.setReceiveBufferSize(4096);
      client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()));
      try (Socket server = listener.accept()) {
        // The client never reads: the server's writes fill both buffers, then block.
        CompletableFuture<Throwable> writer = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
          try {
            OutputStream out = server.getOutputStream();
            byte[] chunk = new byte[64 * 1024];
            for (int i = 0; i < 1024; i++) { // 64 MiB: more than any socket buffer takes
              out.write(chunk);
            }
            writer.complete(null);
          } catch (IOException e) {
            writer.complete(e);
          }
        }, "blocked-writer");
        thread.setDaemon(true);
        thread.start();

        assertEquals(WriteInterrupter.Outcome.OUTPUT_SHUT,
            WriteInterrupter.shutLibertyOutput(new SessionExt(server)));
        assertInstanceOf(IOException.class, writer.get(10, TimeUnit.SECONDS), "the write failed");
        await().atMost(Duration.ofSeconds(10)).until(() -> !thread.isAlive());
        assertTrue(server.isOutputShutdown());
      }
    }
  }

  @Test
  void aSessionOfAnotherShapeCannotBeInterrupted() {
    assertEquals(WriteInterrupter.Outcome.WAIT, WriteInterrupter.shutLibertyOutput(new Object()));
    assertEquals(WriteInterrupter.Outcome.WAIT, WriteInterrupter.shutLibertyOutput("a string"));
  }

  @Test
  void sessionsOfOtherRuntimesAreClosed() {
    FakeSession fake = new FakeSession(true);
    assertEquals(WriteInterrupter.Outcome.CLOSE_SESSION, WriteInterrupter.interrupt(fake.session));
  }
}
