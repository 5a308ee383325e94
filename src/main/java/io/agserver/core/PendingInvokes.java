package io.agserver.core;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import io.agserver.protocol.AGError;
import io.agserver.protocol.Errors;

/**
 * The server-to-client invokes of one socket waiting for their response. Ack timeouts are
 * checked by the server's sweep ({@link #expire}), so an invoke costs no timer task.
 *
 * <p>Once {@link #abortAll} has run, the socket is closed for good: an invoke registered after it
 * (one that raced the close) fails at once. {@code aborted} is written before the map is drained
 * and read after an entry is added, so either the drain sees the entry or the registration sees
 * the flag; whichever removes the entry first completes it.
 *
 * <p>Futures are completed on the caller's thread: the sweep hands expiries to the server's
 * workers ({@link #expire} returns them) so that no application callback runs on the timer.
 */
public final class PendingInvokes {

  private record Pending(String event, long deadline, CompletableFuture<Object> result) {}

  private final AtomicLong nextCid = new AtomicLong(1);
  private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
  private volatile Abort aborted;

  private record Abort(String failureType, int code, String reason) {}

  /** The call id of a new invoke; its future has already failed when the socket closed first. */
  public long register(String event, long deadline, CompletableFuture<Object> result) {
    long cid = nextCid.getAndIncrement();
    pending.put(cid, new Pending(event, deadline, result));
    Abort abort = aborted;
    if (abort != null) {
      Pending call = pending.remove(cid);
      if (call != null) {
        fail(call, abort);
      }
    }
    return cid;
  }

  /** Completes the invoke {@code rid} answers; a rid nobody waits for is ignored, as in the original. */
  public void complete(Object rid, Object error, Object data) {
    if (!(rid instanceof Number number)) {
      return;
    }
    long key = number.longValue();
    // A fractional rid names no call id (the original looks it up as an object key).
    if (number.doubleValue() != key) {
      return;
    }
    Pending call = pending.remove(key);
    if (call == null) {
      return;
    }
    AGError hydrated = Errors.hydrate(error);
    if (hydrated != null) {
      call.result().completeExceptionally(hydrated);
    } else {
      call.result().complete(data);
    }
  }

  /** Whether no invoke waits for its response. */
  public boolean isEmpty() {
    return pending.isEmpty();
  }

  /** Whether an invoke's ack timeout has passed at {@code now}: the sweep's cheap check. */
  public boolean anyDue(long now) {
    if (pending.isEmpty()) {
      return false;
    }
    for (Pending call : pending.values()) {
      if (now >= call.deadline()) {
        return true;
      }
    }
    return false;
  }

  /** Fails the invokes whose ack timeout has passed at {@code now} with TimeoutError. */
  public void expire(long now) {
    if (pending.isEmpty()) {
      return;
    }
    for (Iterator<Map.Entry<Long, Pending>> it = pending.entrySet().iterator(); it.hasNext();) {
      Map.Entry<Long, Pending> entry = it.next();
      Pending call = entry.getValue();
      if (now >= call.deadline() && pending.remove(entry.getKey(), call)) {
        call.result().completeExceptionally(
            AGError.timeout("Event response for " + call.event() + " event timed out"));
      }
    }
  }

  /**
   * Fails every waiting invoke with BadConnectionError, and every later one: the socket closed.
   * The first abort's reason is the one later invokes report.
   */
  public void abortAll(String failureType, int code, String reason) {
    Abort abort = aborted;
    if (abort == null) {
      abort = new Abort(failureType, code, reason);
      aborted = abort;
    }
    if (pending.isEmpty()) {
      return;
    }
    Abort now = new Abort(failureType, code, reason);
    for (Iterator<Map.Entry<Long, Pending>> it = pending.entrySet().iterator(); it.hasNext();) {
      Map.Entry<Long, Pending> entry = it.next();
      if (pending.remove(entry.getKey(), entry.getValue())) {
        fail(entry.getValue(), now);
      }
    }
  }

  private static void fail(Pending call, Abort abort) {
    call.result().completeExceptionally(AGError.badConnection(
        "Event " + call.event() + " was aborted due to a bad connection", abort.failureType(), abort.code(),
        abort.reason()));
  }
}
