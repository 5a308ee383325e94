package io.agserver.transport;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.websocket.CloseReason;
import jakarta.websocket.RemoteEndpoint;
import jakarta.websocket.Session;

/**
 * A Jakarta WebSocket session whose blocking writes can be held, as a client's full TCP window
 * holds them. A close ends a held write when {@link #closeEndsWrites} (Tyrus's behaviour), else
 * only {@link #release} or {@link #failWrites} do (Open Liberty's, where only shutting the
 * socket's output ends it).
 */
final class FakeSession {

  final List<String> written = new CopyOnWriteArrayList<>();
  final List<CloseReason> closes = new CopyOnWriteArrayList<>();
  /** What happened, in order: "write-start", "write-end", "write-failed", "close:CODE". */
  final List<String> log = new CopyOnWriteArrayList<>();
  final Session session;

  private final boolean closeEndsWrites;
  private boolean holding;
  private boolean open = true;
  private IOException failure;

  FakeSession(boolean closeEndsWrites) {
    this.closeEndsWrites = closeEndsWrites;
    RemoteEndpoint.Basic remote = (RemoteEndpoint.Basic) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {RemoteEndpoint.Basic.class}, (proxy, method, args) -> switch (method.getName()) {
          case "sendText" -> {
            write((String) args[0]);
            yield null;
          }
          case "sendBinary" -> {
            write("binary:" + ((ByteBuffer) args[0]).remaining());
            yield null;
          }
          case "hashCode" -> System.identityHashCode(proxy);
          case "equals" -> proxy == args[0];
          default -> throw new UnsupportedOperationException(method.getName());
        });
    session = (Session) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Session.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "getBasicRemote" -> remote;
          case "isOpen" -> isOpen();
          case "close" -> {
            close(args == null ? new CloseReason(CloseReason.CloseCodes.NORMAL_CLOSURE, "") : (CloseReason) args[0]);
            yield null;
          }
          case "hashCode" -> System.identityHashCode(proxy);
          case "equals" -> proxy == args[0];
          case "toString" -> "FakeSession";
          default -> throw new UnsupportedOperationException(method.getName());
        });
  }

  /** From now on writes block until released, failed, or (if it ends writes) closed. */
  synchronized void hold() {
    holding = true;
  }

  synchronized void release() {
    holding = false;
    notifyAll();
  }

  /** The held write fails with an IOException, as when the socket's output is shut down. */
  synchronized void failWrites() {
    failure = new IOException("Broken pipe");
    notifyAll();
  }

  synchronized boolean isOpen() {
    return open;
  }

  private synchronized void close(CloseReason reason) {
    closes.add(reason);
    log.add("close:" + reason.getCloseCode().getCode());
    open = false;
    notifyAll();
  }

  private synchronized void write(String text) throws IOException {
    log.add("write-start");
    try {
      while (holding && failure == null && (open || !closeEndsWrites)) {
        wait();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    if (failure != null) {
      log.add("write-failed");
      throw failure;
    }
    if (!open && closeEndsWrites && holding) {
      log.add("write-failed");
      throw new IOException("closed");
    }
    written.add(text);
    log.add("write-end");
  }
}
