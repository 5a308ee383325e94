package io.agserver.transport;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
    private final LinkWrite linkWrite;

    WsocConnLink(Socket socket) {
      tcpConnection = new TcpConnLink(socket);
      linkWrite = new LinkWrite(new WriteContext(tcpConnection));
    }
  }

  public static final class LinkWrite {
    protected final MessageWriter messageWriter;

    LinkWrite(WriteContext context) {
      messageWriter = new MessageWriter(context);
    }
  }

  public static final class MessageWriter {
    final WriteContext tcpWriteContext;

    MessageWriter(WriteContext context) {
      tcpWriteContext = context;
    }
  }

  public static final class TcpConnLink {
    private final SocketIoChannel channel;

    TcpConnLink(Socket socket) {
      channel = socket == null ? null : new SocketIoChannel(socket);
    }

    /** Null once Liberty closed the connection. */
    public SocketIoChannel getSocketIOChannel() {
      return channel;
    }
  }

  /** As Liberty's TCPBaseRequestContext: a blocking write parks on blockWait until notified. */
  public static class BaseContext {
    protected boolean blockedThread;
    protected SimpleSync blockWait = new SimpleSync();
    protected IOException blockingIOError;
    protected TcpConnLink oTCPConnLink;
  }

  public static final class WriteContext extends BaseContext {
    WriteContext(TcpConnLink link) {
      oTCPConnLink = link;
    }

    /** processSyncWriteRequest: wait for the selector, then fail with what it left. */
    void blockingWrite() throws IOException {
      synchronized (this) {
        blockedThread = true;
      }
      blockWait.simpleWait();
      if (blockingIOError != null) {
        throw blockingIOError;
      }
    }
  }

  public static final class SimpleSync {
    private boolean notified;

    synchronized void simpleWait() {
      while (!notified) {
        try {
          wait();
        } catch (InterruptedException e) {
          // Liberty's SimpleSync ignores interrupts too
        }
      }
      notified = false;
    }

    protected synchronized void simpleNotify() {
      notified = true;
      notifyAll();
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
  void aWriteParkedOnAConnectionLibertyClosedIsWoken() throws Exception {
    SessionExt session = new SessionExt(null); // the connection is closed: no socket channel
    WriteContext writer = session.getSessionImpl().connLink.linkWrite.messageWriter.tcpWriteContext;
    CompletableFuture<Throwable> parked = new CompletableFuture<>();
    Thread thread = new Thread(() -> {
      try {
        writer.blockingWrite();
        parked.complete(null);
      } catch (IOException e) {
        parked.complete(e);
      }
    }, "parked-writer");
    thread.setDaemon(true);
    thread.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      synchronized (writer) {
        return writer.blockedThread;
      }
    });
    assertEquals(WriteInterrupter.Outcome.OUTPUT_SHUT, WriteInterrupter.shutLibertyOutput(session));
    assertInstanceOf(IOException.class, parked.get(10, TimeUnit.SECONDS), "the parked write failed");
  }

  @Test
  void aWriteRequestThatServesAnotherConnectionIsLeftAlone() {
    WsocConnLink link = new SessionExt(null).getSessionImpl().connLink;
    WriteContext request = link.linkWrite.messageWriter.tcpWriteContext;
    request.oTCPConnLink = new TcpConnLink(null); // reused by another connection
    assertFalse(WriteInterrupter.wakeOrphanedWriter(link, link.tcpConnection));
    assertEquals(null, request.blockingIOError);
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
