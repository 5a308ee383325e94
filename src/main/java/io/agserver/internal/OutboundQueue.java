package io.agserver.internal;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import io.agserver.transport.AGTransport;

/**
 * The frames waiting for one connection: any thread may offer, one send is in flight at a time,
 * and a close is sent after every frame queued before it. Counts what waits, in frames and in
 * characters, so that a client that stops reading is cut off at {@code limit} instead of growing
 * the heap.
 */
public final class OutboundQueue {

  /** Callbacks to the owning socket. */
  public interface Owner {
    /** A send failed: the connection is gone. */
    void onSendFailure(Throwable error);

    /** More than the limit is waiting: the client does not read. */
    void onOverflow(long waitingChars);
  }

  private record Close(int code, String reason) {}

  private static final int IDLE = 0;
  private static final int IN_CALL = 1;
  private static final int COMPLETED_IN_CALL = 2;

  private final AGTransport transport;
  private final Owner owner;
  private final long limit;
  private final ConcurrentLinkedQueue<Object> frames = new ConcurrentLinkedQueue<>();
  private final AtomicInteger waitingFrames = new AtomicInteger();
  private final AtomicLong waitingChars = new AtomicLong();
  private final AtomicInteger sending = new AtomicInteger();
  // Tells a send's completion apart from the call that started it, so that sends completing
  // inline loop instead of recursing.
  private final AtomicInteger phase = new AtomicInteger(IDLE);
  private final Consumer<Throwable> onSent = this::sent;
  /** ws's closeTimeout: how long a close may wait behind a send that does not complete. */
  static final long CLOSE_TIMEOUT_MS = 30_000;

  private volatile boolean closed;
  private volatile boolean closeHandedOver;
  private volatile long sentFrames;

  public OutboundQueue(AGTransport transport, Owner owner, long limit) {
    this.transport = transport;
    this.owner = owner;
    this.limit = limit;
  }

  /** Queues a text frame; false once the queue is closed. */
  public boolean offer(String text) {
    return enqueue(text, text.length());
  }

  /** Queues a binary frame; false once the queue is closed. */
  public boolean offer(ByteBuffer data) {
    return enqueue(data, data.remaining());
  }

  /** Sends the close frame after what is already queued; later offers are dropped. */
  public void close(int code, String reason) {
    if (closed) {
      return;
    }
    closed = true;
    frames.offer(new Close(code, reason));
    drain();
    if (!closeHandedOver) {
      // A send is in flight. If the client stopped reading, it, what is queued behind it and the
      // close would wait forever; ws destroys such a socket closeTimeout after close().
      CompletableFuture.delayedExecutor(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS).execute(() -> {
        if (!closeHandedOver) {
          closeNow(code, reason);
        }
      });
    }
  }

  /** Drops what waits and closes now: for a client that does not read. */
  public void closeNow(int code, String reason) {
    closed = true;
    closeHandedOver = true;
    frames.clear();
    waitingFrames.set(0);
    waitingChars.set(0);
    transport.close(code, reason);
  }

  public boolean isClosed() {
    return closed;
  }

  /** Frames queued and not yet handed to the transport, plus the one in flight. */
  public int backpressure() {
    return waitingFrames.get();
  }

  public long waitingChars() {
    return waitingChars.get();
  }

  public long sentFrames() {
    return sentFrames;
  }

  private boolean enqueue(Object frame, long size) {
    if (closed) {
      return false;
    }
    frames.offer(frame);
    waitingFrames.incrementAndGet();
    long waiting = waitingChars.addAndGet(size);
    if (waiting > limit) {
      owner.onOverflow(waiting);
      return false;
    }
    drain();
    return true;
  }

  private void drain() {
    if (sending.compareAndSet(0, 1)) {
      sendLoop();
    }
  }

  private void sendLoop() {
    while (true) {
      Object frame = frames.poll();
      if (frame == null) {
        sending.set(0);
        // A frame offered between the poll and the release would otherwise wait forever.
        if (frames.isEmpty() || !sending.compareAndSet(0, 1)) {
          return;
        }
        continue;
      }
      if (frame instanceof Close close) {
        closeHandedOver = true;
        transport.close(close.code(), close.reason());
        frames.clear();
        return; // stays "sending": nothing goes out after a close
      }
      phase.set(IN_CALL);
      try {
        if (frame instanceof String text) {
          inFlightSize = text.length();
          transport.sendText(text, onSent);
        } else {
          ByteBuffer data = (ByteBuffer) frame;
          inFlightSize = data.remaining();
          transport.sendBinary(data, onSent);
        }
      } catch (RuntimeException e) {
        phase.set(IDLE);
        fail(e);
        return;
      }
      if (phase.compareAndSet(IN_CALL, IDLE)) {
        return; // still in flight: its completion continues the loop
      }
      phase.set(IDLE);
      if (failure != null) {
        return;
      }
    }
  }

  private volatile Throwable failure;
  // Size of the frame in flight: read by its completion, written before the send starts.
  private volatile long inFlightSize;

  private void sent(Throwable error) {
    waitingFrames.decrementAndGet();
    waitingChars.addAndGet(-inFlightSize);
    if (error != null) {
      failure = error;
    } else {
      sentFrames++;
    }
    if (phase.compareAndSet(IN_CALL, COMPLETED_IN_CALL)) {
      if (error != null) {
        fail(error);
      }
      return; // the loop that started this send goes on
    }
    if (error != null) {
      fail(error);
      return;
    }
    sendLoop();
  }

  private void fail(Throwable error) {
    closed = true;
    frames.clear();
    owner.onSendFailure(error);
  }
}
