package io.agserver.endpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import jakarta.websocket.CloseReason;
import jakarta.websocket.RemoteEndpoint;
import jakarta.websocket.Session;

import io.agserver.transport.AGTransport;

/**
 * An {@link AGTransport} over a Jakarta WebSocket session: frames are written with the blocking
 * remote on the {@link Senders} threads (why not the asynchronous remote: see there). One write
 * is in flight per session, as {@link io.agserver.core.OutboundQueue} guarantees.
 */
final class JakartaTransport implements AGTransport {

  // Close reasons longer than this do not fit a control frame (125 bytes minus the code).
  private static final int MAX_REASON_BYTES = 123;

  /**
   * How long a close waits for a send still in flight before closing anyway: ws's closeTimeout,
   * after which it destroys a socket that did not finish its closing handshake.
   */
  static final long CLOSE_TIMEOUT_MS = 30_000;

  /**
   * Where sessions are closed: never on the caller's thread, which may be a container read thread,
   * another socket's thread (a publish) or the server's one timer thread (pings and timeouts of
   * every socket). On Open Liberty {@code Session.close} blocks its caller: with a read pending on
   * the wire it cancels that read and waits for it (measured here: 4 such closes from the timer
   * thread held every socket's pings for 1.5 s, and delayed another socket's answers as long);
   * with a send in flight it waits for that send (up to 5.5 s), then for the close
   * frame's write (5.5 s more). A close that finds a send in flight is also deferred until that
   * send completes, so that the close frame follows it (a client that stopped reading and reads
   * again gets what was on its way, then the close), and forced after {@link #CLOSE_TIMEOUT_MS}.
   */
  private static final Executor CLOSER = closer();

  /** A write the container refused because it is writing a pong or a close frame: retried. */
  private static final int BUSY_RETRIES = 200;

  private interface Write {
    void to(RemoteEndpoint.Basic remote) throws IOException;
  }

  private final Session session;
  private final RemoteEndpoint.Basic remote;
  private final Senders senders;
  private final Object lock = new Object();
  // Guarded by lock. OutboundQueue has at most one send in flight.
  private boolean sending;
  private CloseReason pendingClose;
  /** The callback of the send in flight. */
  private Consumer<Throwable> inFlight;

  JakartaTransport(Session session, Senders senders) {
    this.session = session;
    this.senders = senders;
    this.remote = session.getBasicRemote();
  }

  @Override
  public void sendText(String text, Consumer<Throwable> done) {
    send(remote -> remote.sendText(text), done);
  }

  @Override
  public void sendBinary(ByteBuffer data, Consumer<Throwable> done) {
    send(remote -> remote.sendBinary(data), done);
  }

  /**
   * Writes on a sender thread: inline when already on one (the socket's next frame after the
   * previous one), else queued to them, so that no caller (a container read thread, a publisher,
   * the timer) ever waits for a client's TCP window.
   */
  private void send(Write write, Consumer<Throwable> done) {
    started(done);
    if (Senders.mayWriteInline()) {
      write(write);
    } else {
      senders.execute(() -> write(write));
    }
  }

  private void write(Write write) {
    Throwable error = null;
    try {
      writeRetrying(write);
    } catch (IOException | RuntimeException e) {
      error = e;
    }
    completed(error);
  }

  private void writeRetrying(Write write) throws IOException {
    for (int attempt = 0; ; attempt++) {
      try {
        write.to(remote);
        return;
      } catch (IllegalStateException busy) {
        // The container answers a client's ping or writes a close frame itself, briefly.
        if (attempt >= BUSY_RETRIES || !session.isOpen()) {
          throw busy;
        }
        try {
          Thread.sleep(1);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw busy;
        }
      }
    }
  }

  private void started(Consumer<Throwable> done) {
    synchronized (lock) {
      sending = true;
      inFlight = done;
    }
  }

  private void completed(Throwable error) {
    Consumer<Throwable> done = finished();
    if (done != null) {
      done.accept(error);
    }
  }

  /** The send in flight is over: a close that waited for it goes now. Returns its callback. */
  private Consumer<Throwable> finished() {
    CloseReason close;
    Consumer<Throwable> done;
    synchronized (lock) {
      sending = false;
      done = inFlight;
      inFlight = null;
      close = pendingClose;
      pendingClose = null;
    }
    if (close != null) {
      CLOSER.execute(() -> closeSession(close));
    }
    return done;
  }

  @Override
  public void close(int code, String reason) {
    close(new CloseReason(CloseReason.CloseCodes.getCloseCode(code), fit(reason)));
  }

  @Override
  public void terminate() {
    // Jakarta WebSocket has no abort: a 1001 close is the nearest the API allows.
    close(new CloseReason(CloseReason.CloseCodes.GOING_AWAY, ""));
  }

  private void close(CloseReason reason) {
    if (!session.isOpen()) {
      return;
    }
    synchronized (lock) {
      if (sending) {
        if (pendingClose == null) {
          pendingClose = reason;
          CompletableFuture.delayedExecutor(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS, CLOSER)
              .execute(this::closeTimedOut);
        }
        return;
      }
    }
    CLOSER.execute(() -> closeSession(reason));
  }

  private void closeTimedOut() {
    CloseReason close;
    synchronized (lock) {
      close = pendingClose;
      pendingClose = null;
    }
    if (close != null) {
      closeSession(close);
    }
  }

  private void closeSession(CloseReason reason) {
    try {
      if (session.isOpen()) {
        session.close(reason);
      }
    } catch (IOException | RuntimeException e) {
      // Already gone, or the container dropped the connection itself.
    }
  }

  static String fit(String reason) {
    if (reason == null) {
      return "";
    }
    byte[] bytes = reason.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    if (bytes.length <= MAX_REASON_BYTES) {
      return reason;
    }
    int end = reason.length();
    while (reason.substring(0, end).getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_REASON_BYTES) {
      end--;
    }
    return reason.substring(0, end);
  }

  /** Up to 64 daemon threads, started on demand and gone after 30 s idle; more closes queue. */
  private static Executor closer() {
    AtomicInteger count = new AtomicInteger();
    ThreadPoolExecutor executor = new ThreadPoolExecutor(64, 64, 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), runnable -> {
          Thread thread = new Thread(runnable, "agserver-close-" + count.incrementAndGet());
          thread.setDaemon(true);
          return thread;
        });
    executor.allowCoreThreadTimeOut(true);
    return executor;
  }
}
