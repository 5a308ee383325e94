package io.agserver.core;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import io.agserver.ops.ServerFigures;
import io.agserver.transport.AGTransport;

/**
 * The frames waiting for one connection: any thread may offer, one send is in flight at a time,
 * and a close is sent after every frame queued before it. Counts what waits, in frames and in
 * characters, so that a client that stops reading is cut off at {@code limit} instead of growing
 * the heap.
 *
 * <p>With coalescing on, JSON packets that queued up behind a send in flight leave together as
 * one array frame, the batch format every official client reads (socket.startBatch sends the
 * same). A container's send costs far more than the characters it carries, so under load the
 * cost per packet falls as the queue grows, and a socket that is keeping up still gets each
 * packet alone and at once.
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

  /** Text that must go out as its own frame when packets are coalesced (raw data, pings). */
  private record RawText(String text) {}

  /** Packets added to one coalesced frame stop once it holds this many characters. */
  static final int MAX_COALESCED_CHARS = 64 * 1024;

  private static final int IDLE = 0;
  private static final int IN_CALL = 1;
  private static final int COMPLETED_IN_CALL = 2;

  private final AGTransport transport;
  private final Owner owner;
  private final long limit;
  private final boolean coalesce;
  // Where each frame handed to the transport is counted; null: nowhere.
  private final ServerFigures figures;
  private final ConcurrentLinkedQueue<Object> frames = new ConcurrentLinkedQueue<>();
  private final AtomicInteger waitingFrames = new AtomicInteger();
  private final AtomicLong waitingChars = new AtomicLong();
  private final AtomicInteger sending = new AtomicInteger();
  // Tells a send's completion apart from the call that started it, so that sends completing
  // inline loop instead of recursing.
  private final AtomicInteger phase = new AtomicInteger(IDLE);
  private final Consumer<Throwable> onSent = this::sent;

  private volatile boolean closed;

  public OutboundQueue(AGTransport transport, Owner owner, long limit) {
    this(transport, owner, limit, false);
  }

  /**
   * @param coalesce whether packets offered with {@link #offerPacket} may share a frame: only
   *     when they are JSON texts, as the default codec writes them
   */
  public OutboundQueue(AGTransport transport, Owner owner, long limit, boolean coalesce) {
    this(transport, owner, limit, coalesce, null);
  }

  /** @param figures where each frame sent (and its bytes) is counted; null: nowhere */
  public OutboundQueue(AGTransport transport, Owner owner, long limit, boolean coalesce, ServerFigures figures) {
    this.transport = transport;
    this.owner = owner;
    this.limit = limit;
    this.coalesce = coalesce;
    this.figures = figures;
  }

  /** Queues a text frame that goes out as it is; false once the queue is closed. */
  public boolean offer(String text) {
    return enqueue(alone(text), text.length());
  }

  /**
   * Queues one encoded packet: a JSON object may leave in one frame with the packets queued next
   * to it; anything else (an array is already a batch) goes out alone. False once the queue is
   * closed.
   */
  public boolean offerPacket(String packet) {
    return enqueue(asPacket(packet), packet.length());
  }

  /**
   * Queues one encoded packet as {@link #offerPacket} does, and nothing more: no send starts and
   * the limit is not looked at until {@link #sendQueued}. For a caller that queues under a lock
   * of its own, which a send to a client that does not read must never hold. False once the
   * queue is closed.
   */
  public boolean queuePacket(String packet) {
    return add(asPacket(packet), packet.length());
  }

  /** A JSON object may share a frame with the packets next to it; anything else goes alone. */
  private Object asPacket(String packet) {
    return !packet.isEmpty() && packet.charAt(0) == '{' ? packet : alone(packet);
  }

  /** A text that goes out as a frame of its own even where packets are coalesced. */
  private Object alone(String text) {
    return coalesce ? new RawText(text) : text;
  }

  /**
   * After {@link #queuePacket}: what waits is held to the limit, and sending starts. False when
   * the limit was passed (the owner was told).
   */
  public boolean sendQueued() {
    long waiting = waitingChars.get();
    // One frame alone may be larger than the limit (a big answer to a client that reads): the
    // limit is on what piles up behind it.
    if (waiting > limit && waitingFrames.get() > 1) {
      owner.onOverflow(waiting);
      return false;
    }
    drain();
    return true;
  }

  /** Queues a binary frame; false once the queue is closed. */
  public boolean offer(ByteBuffer data) {
    return enqueue(data, data.remaining());
  }

  /**
   * Sends the close frame after what is already queued; later offers are dropped. A send in
   * flight that never completes does not hold the close forever: the transport fails a write
   * after its send time limit, and the failure drops the connection.
   */
  public void close(int code, String reason) {
    if (closed) {
      return;
    }
    closed = true;
    frames.offer(new Close(code, reason));
    drain();
  }

  /** Drops what waits and closes now: for a client that does not read. */
  public void closeNow(int code, String reason) {
    closed = true;
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

  /** Characters queued and not yet written, those of the frame in flight included. */
  public long waitingCharacters() {
    return waitingChars.get();
  }

  private boolean enqueue(Object frame, long size) {
    return add(frame, size) && sendQueued();
  }

  private boolean add(Object frame, long size) {
    if (closed) {
      return false;
    }
    frames.offer(frame);
    waitingFrames.incrementAndGet();
    waitingChars.addAndGet(size);
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
        transport.close(close.code(), close.reason());
        frames.clear();
        return; // stays "sending": nothing goes out after a close
      }
      phase.set(IN_CALL);
      try {
        if (frame instanceof String text) {
          sendText(text);
        } else if (frame instanceof RawText raw) {
          inFlightFrames = 1;
          inFlightSize = raw.text().length();
          if (figures != null) {
            figures.sent(raw.text());
          }
          transport.sendText(raw.text(), onSent);
        } else {
          ByteBuffer data = (ByteBuffer) frame;
          inFlightFrames = 1;
          inFlightSize = data.remaining();
          if (figures != null) {
            figures.sent(data);
          }
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

  /**
   * Sends a text frame, with the packets queued behind it when coalescing: only the sending
   * loop polls, so what it peeks is what it polls (unless closeNow empties the queue meanwhile,
   * and then nothing more goes out anyway).
   */
  private void sendText(String first) {
    int count = 1;
    long chars = first.length();
    String text = first;
    if (coalesce && frames.peek() instanceof String) {
      StringBuilder batch = new StringBuilder((int) Math.min(2L * MAX_COALESCED_CHARS, 4 * chars + 64));
      batch.append('[').append(first);
      while (chars < MAX_COALESCED_CHARS && frames.peek() instanceof String) {
        Object next = frames.poll();
        if (!(next instanceof String packet)) {
          break;
        }
        batch.append(',').append(packet);
        chars += packet.length();
        count++;
      }
      text = batch.append(']').toString();
    }
    inFlightFrames = count;
    inFlightSize = chars;
    if (figures != null) {
      figures.sent(text);
    }
    transport.sendText(text, onSent);
  }

  private volatile Throwable failure;
  // What the frame in flight carries, in queued frames and their characters: read by its
  // completion, written before the send starts.
  private volatile long inFlightSize;
  private volatile int inFlightFrames;

  private void sent(Throwable error) {
    int count = inFlightFrames;
    waitingFrames.addAndGet(-count);
    waitingChars.addAndGet(-inFlightSize);
    if (error != null) {
      failure = error;
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
