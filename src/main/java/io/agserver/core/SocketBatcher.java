package io.agserver.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;

import io.agserver.core.AGScheduler;

/**
 * A socket's batching: while a batch is open, packets are collected and leave as one JSON array
 * frame; {@code startBatching} flushes every {@code batchInterval}.
 *
 * <p>One lock orders everything: adding to the batch, and a flush's encoding and hand-over to the
 * outbound queue. {@code buffer} is set to null only after the batch's frame is queued,
 * so a sender that sees no batch open (a volatile read, the whole cost when batching is off)
 * queues its frame after the batch, never before it.
 */
public final class SocketBatcher {

  private final SocketContext socket;
  private final AGScheduler scheduler;
  private final long batchInterval;
  private volatile List<Object> buffer;
  private boolean batching;
  private ScheduledFuture<?> flusher;

  public SocketBatcher(SocketContext socket, AGScheduler scheduler, long batchInterval) {
    this.socket = socket;
    this.scheduler = scheduler;
    this.batchInterval = batchInterval;
  }

  /** Adds the packet to the open batch; false when no batch is open. */
  public boolean buffer(Object packet) {
    if (buffer == null) {
      return false;
    }
    synchronized (this) {
      if (buffer == null) {
        return false;
      }
      buffer.add(packet);
      return true;
    }
  }

  public boolean isBuffering() {
    return buffer != null;
  }

  public synchronized void startBatch() {
    buffer = new ArrayList<>();
  }

  public void flushBatch() {
    flush(false);
  }

  /** Sends the open batch as one frame; with {@code reopen}, a new batch opens in the same step. */
  private synchronized void flush(boolean reopen) {
    List<Object> batch = buffer;
    if (batch != null && !batch.isEmpty()) {
      String encoded = socket.serialize(batch);
      if (encoded != null) {
        socket.sendEncoded(encoded);
      }
    }
    buffer = reopen ? new ArrayList<>() : null;
  }

  public synchronized void cancelBatch() {
    buffer = null;
  }

  public synchronized boolean isBatching() {
    return batching;
  }

  public void startBatching() {
    synchronized (this) {
      batching = true;
    }
    startInterval();
  }

  /** Batching for a while after the handshake (batchOnHandshake). */
  public void startTemporarily(long durationMillis) {
    startInterval();
    scheduler.after(durationMillis, () -> {
      if (!isBatching()) {
        stopInterval();
      }
    });
  }

  public void stopBatching() {
    synchronized (this) {
      batching = false;
    }
    stopInterval();
  }

  public void cancelBatching() {
    ScheduledFuture<?> running;
    synchronized (this) {
      batching = false;
      running = flusher;
      flusher = null;
      buffer = null;
    }
    if (running != null) {
      running.cancel(false);
    }
  }

  private void startInterval() {
    synchronized (this) {
      if (flusher != null) {
        return;
      }
      buffer = new ArrayList<>();
      flusher = scheduler.every(batchInterval, this::flushAndReopen);
    }
  }

  private synchronized void flushAndReopen() {
    if (flusher != null) {
      flush(true);
    }
  }

  private void stopInterval() {
    ScheduledFuture<?> running;
    synchronized (this) {
      running = flusher;
      flusher = null;
    }
    if (running != null) {
      running.cancel(false);
    }
    flushBatch();
  }
}
