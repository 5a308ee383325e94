package io.agserver;

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
 */
final class PendingInvokes {

  private record Pending(String event, long deadline, CompletableFuture<Object> result) {}

  private final AtomicLong nextCid = new AtomicLong(1);
  private final Map<Long, Pending> pending = new ConcurrentHashMap<>();

  long register(String event, long deadline, CompletableFuture<Object> result) {
    long cid = nextCid.getAndIncrement();
    pending.put(cid, new Pending(event, deadline, result));
    return cid;
  }

  /** Completes the invoke {@code rid} answers; a rid nobody waits for is ignored, as in the original. */
  void complete(Object rid, Object error, Object data) {
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

  void expire(long now) {
    if (pending.isEmpty()) {
      return;
    }
    for (Iterator<Map.Entry<Long, Pending>> it = pending.entrySet().iterator(); it.hasNext();) {
      Pending call = it.next().getValue();
      if (now >= call.deadline()) {
        it.remove();
        call.result().completeExceptionally(
            AGError.timeout("Event response for " + call.event() + " event timed out"));
      }
    }
  }

  /** Fails every waiting invoke with BadConnectionError: the socket closed. */
  void abortAll(String failureType, int code, String reason, AGServerSocket socket) {
    if (pending.isEmpty()) {
      return;
    }
    for (Iterator<Map.Entry<Long, Pending>> it = pending.entrySet().iterator(); it.hasNext();) {
      Pending call = it.next().getValue();
      it.remove();
      call.result().completeExceptionally(AGError.badConnection(
          "Event " + call.event() + " was aborted due to a bad connection", failureType, code, reason));
    }
  }
}
