package io.agserver.transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

import jakarta.websocket.CloseReason;
import jakarta.websocket.RemoteEndpoint;
import jakarta.websocket.Session;

import io.agserver.protocol.AGError;
import io.agserver.protocol.CloseCodes;

/**
 * An {@link AGTransport} over a Jakarta WebSocket session: frames are written with the blocking
 * remote on the {@link Senders} threads (why not the asynchronous remote: see there). One write
 * is in flight per session, as {@link io.agserver.internal.OutboundQueue} guarantees.
 *
 * <p>A write that takes longer than the send time limit ({@code socketcluster.sendTimeout}) is
 * abandoned: its send fails with a TimeoutError (the socket then goes through its send-failure
 * path), and the write is ended as the runtime allows ({@link WriteInterrupter}), so that a client
 * that stops reading holds a sender thread no longer than that. The senders' watchdog checks the
 * deadline ({@link #check}); there is no timer task per write.
 *
 * <p>On Open Liberty, while writes get stuck, a send to a connection whose send buffer has no room
 * waits on the {@link WindowWatch} before it takes a sender ({@link WindowProbe}: one poll of the
 * socket per send): a client that stopped reading holds no thread, and the time its send waits
 * there counts towards the same limit, checked by the watch.
 */
final class JakartaTransport implements AGTransport, Senders.Watched {

  // Close reasons longer than this do not fit a control frame (125 bytes minus the code).
  private static final int MAX_REASON_BYTES = 123;

  /**
   * How long a close waits for a send still in flight before closing anyway: ws's closeTimeout,
   * after which it destroys a socket that did not finish its closing handshake.
   */
  static final long CLOSE_TIMEOUT_MS = 30_000;

  /**
   * How long a write may still be in progress once the container reported the connection closed
   * before it is ended. Open Liberty, for a close it starts itself, calls onClose first, waits up
   * to 5.5 s for the write in flight, then closes the connection under it (and that write never
   * returns); a write still going a second after the close is one that the client's window holds.
   * (For a client's close frame that arrives during such a write, Liberty reports nothing until
   * the write ends: the send time limit ends it.)
   */
  static final long CLOSED_WRITE_GRACE_MS = 1000;

  /** The reason of the close that follows a send over the time limit. */
  static final String SEND_TIMEOUT_REASON = "Send timed out";

  /** A write the container refused because it is writing a pong or a close frame: retried. */
  private static final int BUSY_RETRIES = 200;

  private interface Write {
    void to(RemoteEndpoint.Basic remote) throws IOException;
  }

  private final Session session;
  private final RemoteEndpoint.Basic remote;
  private final Senders senders;
  /**
   * Where sessions are closed: never on the caller's thread, which may be a container read thread,
   * another socket's thread (a publish), the server's one timer thread (pings and timeouts of every
   * socket) or the senders' watchdog. On Open Liberty {@code Session.close} blocks its caller: with
   * a read pending on the wire it cancels that read and waits for it (measured here: 4 such closes
   * from the timer thread held every socket's pings for 1.5 s, and delayed another socket's answers
   * as long); with a send in flight it waits for that send (up to 5.5 s), then for the close
   * frame's write (5.5 s more). A close that finds a send in flight is also deferred until that
   * send completes, so that the close frame follows it (a client that stopped reading and reads
   * again gets what was on its way, then the close), and forced after {@link #CLOSE_TIMEOUT_MS}
   * (the senders' watchdog ends that send).
   */
  private final Executor closer;
  private final long sendTimeoutNanos;
  private final long closeTimeoutNanos;
  private final Function<Session, WriteInterrupter.Outcome> interrupter;
  /** Where a send waits for the client's window while writes get stuck; null: on a sender. */
  private final WindowWatch watch;
  /**
   * The session's connection once looked up; written by the sender of the send in flight (one at
   * a time, in order), read by the watch thread through a parked send.
   */
  private volatile SocketChannel channel;
  private volatile boolean noChannel;
  private final Object lock = new Object();
  // Guarded by lock. OutboundQueue has at most one send in flight.
  private boolean sending;
  private CloseReason pendingClose;
  private long pendingCloseSinceNanos;
  /** When the container reported the connection closed during the write in flight; 0 if not. */
  private long closedDuringWriteNanos;
  /** When the write in flight started on a sender; 0 while it waits for one. */
  private long writeStartedNanos;
  /** The write in flight is past a deadline and being ended: no second attempt. */
  private boolean abandoned;
  /** The callback of the send in flight. */
  private Consumer<Throwable> inFlight;
  /**
   * Counts sends, so that an abandoned write that returns late cannot complete a later send
   * (none follows a failed send today: the outbound queue stops).
   */
  private long generation;

  JakartaTransport(Session session, TransportThreads threads) {
    this(session, threads.senders, threads.closer, threads.sendTimeoutMillis, CLOSE_TIMEOUT_MS,
        WriteInterrupter::interrupt, WriteInterrupter.isLiberty(session) ? threads.windowWatch : null, null);
  }

  /** @param interrupter ends a write past its deadline ({@link WriteInterrupter#interrupt}) */
  JakartaTransport(Session session, Senders senders, Executor closer, long sendTimeoutMillis,
      long closeTimeoutMillis, Function<Session, WriteInterrupter.Outcome> interrupter) {
    this(session, senders, closer, sendTimeoutMillis, closeTimeoutMillis, interrupter, null, null);
  }

  /**
   * @param watch where sends wait for a full window while writes get stuck, or null
   * @param channel the session's connection, for the watch; null: looked up in the session when
   *     first needed (by reflection, so not for every connection)
   */
  JakartaTransport(Session session, Senders senders, Executor closer, long sendTimeoutMillis,
      long closeTimeoutMillis, Function<Session, WriteInterrupter.Outcome> interrupter,
      WindowWatch watch, SocketChannel channel) {
    this.session = session;
    this.watch = watch != null && WindowProbe.availableOrWarn() ? watch : null;
    this.channel = channel;
    if (this.watch != null && channel != null) {
      senders.windowsWatchedBy(this.watch::healthy);
    }
    this.senders = senders;
    this.closer = closer;
    this.sendTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(sendTimeoutMillis);
    this.closeTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(closeTimeoutMillis);
    this.interrupter = interrupter;
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
    long send = started(done);
    if (Senders.mayWriteInline()) {
      write(write, send);
    } else {
      senders.execute(() -> write(write, send));
    }
  }

  private void write(Write write, long send) {
    synchronized (lock) {
      if (send == generation) {
        writeStartedNanos = System.nanoTime();
      }
    }
    // While writes get stuck (clients that stopped reading: the kernel's TCP memory under
    // pressure fills all their windows at once), a send to a connection whose send buffer has no
    // room waits for it on the watch, so that it holds no sender. The time it waits there counts
    // towards the send time limit. Only then: the poll costs a system call per send (13 % of the
    // server's CPU in a fan-out at 60,000 deliveries a second), and until writes get stuck the
    // kernel takes every write.
    if (watch != null && (watch.waiting() > 0 || senders.writesStuckLately())) {
      SocketChannel connection = channel();
      if (connection != null && !WindowProbe.mayTakeData(connection)
          && watch.park(new ParkedSend(write, send, connection))) {
        return;
      }
    }
    writeNow(write, send);
  }

  /** The session's connection, or null where it cannot be reached. */
  private SocketChannel channel() {
    SocketChannel known = channel;
    if (known != null || noChannel) {
      return known;
    }
    known = WriteInterrupter.libertyChannel(session);
    if (known == null) {
      noChannel = true;
    } else {
      senders.windowsWatchedBy(watch::healthy);
    }
    channel = known;
    return known;
  }

  private void writeNow(Write write, long send) {
    Senders.beginWrite(this);
    Throwable error = null;
    try {
      writeRetrying(write);
    } catch (IOException | RuntimeException e) {
      error = e;
    } finally {
      Senders.endWrite();
    }
    completed(error, send);
  }

  /** A send waiting on the {@link WindowWatch} for the client's window. */
  private final class ParkedSend implements WindowWatch.Parked {
    private final Write write;
    private final long send;
    private final SocketChannel connection;
    private final long since = System.nanoTime();

    ParkedSend(Write write, long send, SocketChannel connection) {
      this.write = write;
      this.send = send;
      this.connection = connection;
    }

    @Override
    public SocketChannel channel() {
      return connection;
    }

    @Override
    public void resume() {
      senders.execute(() -> writeNow(write, send));
    }

    @Override
    public boolean overdue(long nowNanos) {
      return endIfOverdue(nowNanos, send);
    }

    @Override
    public long sinceNanos() {
      return since;
    }
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

  private long started(Consumer<Throwable> done) {
    synchronized (lock) {
      sending = true;
      inFlight = done;
      writeStartedNanos = 0;
      abandoned = false;
      closedDuringWriteNanos = 0;
      return ++generation;
    }
  }

  private void completed(Throwable error, long send) {
    Consumer<Throwable> done = finished(send);
    if (done != null) {
      done.accept(error);
    }
  }

  /**
   * The send in flight is over: a close that waited for it goes now. Returns its callback, or null
   * when the send was already failed for its time limit.
   */
  private Consumer<Throwable> finished(long send) {
    CloseReason close;
    Consumer<Throwable> done;
    synchronized (lock) {
      if (send != generation) {
        return null;
      }
      sending = false;
      writeStartedNanos = 0;
      done = inFlight;
      inFlight = null;
      close = pendingClose;
      pendingClose = null;
    }
    if (close != null) {
      closer.execute(() -> closeSession(close));
    }
    return done;
  }

  /**
   * The watchdog's look at the write in flight: past the send time limit, its send fails and the
   * write is ended; past the close timeout (a close waiting for it), or a while after the
   * container reported the connection closed, the write is ended and fails as written.
   *
   * @return whether the write was ended now (the watchdog ends a few per look)
   */
  @Override
  public boolean check(long nowNanos) {
    return endIfOverdue(nowNanos, 0);
  }

  /**
   * Ends the send in flight if it is past a deadline: a write in progress on a sender
   * ({@code parkedSend} 0), or a send waiting on the {@link WindowWatch} for the client's window
   * (its generation), which is then never written: it fails as the write would have, after the
   * callback and the end of the connection's output, and its close follows from there.
   */
  private boolean endIfOverdue(long nowNanos, long parkedSend) {
    Consumer<Throwable> timedOut = null;
    long elapsedMillis;
    synchronized (lock) {
      if (!sending || abandoned || writeStartedNanos == 0 || (parkedSend != 0 && parkedSend != generation)) {
        return false;
      }
      elapsedMillis = TimeUnit.NANOSECONDS.toMillis(nowNanos - writeStartedNanos);
      boolean sendOverdue = nowNanos - writeStartedNanos > sendTimeoutNanos;
      boolean closeOverdue = pendingClose != null && nowNanos - pendingCloseSinceNanos > closeTimeoutNanos;
      boolean closedOverdue = closedDuringWriteNanos != 0
          && nowNanos - closedDuringWriteNanos > TimeUnit.MILLISECONDS.toNanos(CLOSED_WRITE_GRACE_MS);
      if (!sendOverdue && !closeOverdue && !closedOverdue) {
        return false;
      }
      abandoned = true;
      if (sendOverdue) {
        timedOut = inFlight;
        inFlight = null;
        if (pendingClose == null) {
          pendingClose = new CloseReason(CloseReason.CloseCodes.getCloseCode(CloseCodes.POLICY_VIOLATION),
              SEND_TIMEOUT_REASON);
          pendingCloseSinceNanos = nowNanos;
        }
      }
    }
    // Off the watchdog and the watch: ending the write may block (a session close on Open Liberty
    // waits for the write), and the callback runs the socket's failure path and application
    // listeners. The callback first, then the end of the write, in one task: ending the write
    // closes the session (at once where a close ends it, or once the write fails), and a close
    // that got there first would have the container report the connection closed before the
    // socket learnt why, as a plain 1008 close instead of a send over the time limit (seen: a few
    // of 1,000 clients that stopped reading together, uncounted as slow consumers). A parked send
    // completes in the same task, after both, for the same reason.
    Consumer<Throwable> failed = timedOut;
    AGError error = failed == null ? null : AGError.timeout("Send timed out after " + elapsedMillis
        + " ms (socketcluster.sendTimeout): the client does not read");
    closer.execute(() -> {
      try {
        if (failed != null) {
          failed.accept(error);
        }
      } finally {
        endWrite();
        if (parkedSend != 0) {
          completed(new IOException("The send was abandoned while it waited for the client to read"), parkedSend);
        }
      }
    });
    return true;
  }

  /** Ends the abandoned write; the close that waits for it then follows from {@link #finished}. */
  private void endWrite() {
    switch (interrupter.apply(session)) {
      case OUTPUT_SHUT, WAIT -> {
        // OUTPUT_SHUT: the write fails now and its completion closes the session. WAIT: a close
        // now would strand the write for good (Open Liberty), so the close waits for it.
      }
      case CLOSE_SESSION -> {
        CloseReason close;
        synchronized (lock) {
          close = pendingClose;
        }
        closeSession(close != null ? close : new CloseReason(CloseReason.CloseCodes.GOING_AWAY, ""));
      }
    }
  }

  /**
   * The container reports the connection closed (the client's close frame, or the connection
   * lost). A write still in progress is ended after {@link #CLOSED_WRITE_GRACE_MS}.
   */
  void connectionClosed() {
    synchronized (lock) {
      if (sending && closedDuringWriteNanos == 0) {
        closedDuringWriteNanos = System.nanoTime();
      }
    }
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
          pendingCloseSinceNanos = System.nanoTime();
        }
        return;
      }
    }
    closer.execute(() -> closeSession(reason));
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
    byte[] bytes = reason.getBytes(StandardCharsets.UTF_8);
    if (bytes.length <= MAX_REASON_BYTES) {
      return reason;
    }
    int end = reason.length();
    while (reason.substring(0, end).getBytes(StandardCharsets.UTF_8).length > MAX_REASON_BYTES) {
      end--;
    }
    return reason.substring(0, end);
  }
}
