package io.agserver;

import java.util.concurrent.atomic.AtomicBoolean;

import io.agserver.protocol.AGError;
import io.agserver.protocol.Errors;
import io.agserver.codec.JsonCodec;

/**
 * One RPC from a client ({@code invoke} on the client side): answer it once with {@link #end} or
 * {@link #error}. A second answer throws {@code InvalidActionError}, as in the original.
 */
public final class AGRequest {

  private final AGServerSocket socket;
  private final Object id;
  private final String procedure;
  private volatile Object data;
  private volatile boolean hasData;
  private final AtomicBoolean sent = new AtomicBoolean();
  // System.nanoTime() when the server started handling an application procedure's call; its
  // answer is counted in the server's figures. Not for the protocol's own (#handshake ...).
  private final boolean counted;
  private final long startedNanos;

  AGRequest(AGServerSocket socket, Object id, String procedure, Object data, boolean hasData) {
    this(socket, id, procedure, data, hasData, false, 0);
  }

  AGRequest(AGServerSocket socket, Object id, String procedure, Object data, boolean hasData, long startedNanos) {
    this(socket, id, procedure, data, hasData, true, startedNanos);
  }

  private AGRequest(AGServerSocket socket, Object id, String procedure, Object data, boolean hasData,
      boolean counted, long startedNanos) {
    this.socket = socket;
    this.id = id;
    this.procedure = procedure;
    this.data = data;
    this.hasData = hasData;
    this.counted = counted;
    this.startedNanos = startedNanos;
  }

  public AGServerSocket socket() {
    return socket;
  }

  /** The client's call id ({@code cid}), echoed as the response's {@code rid}. */
  public Object id() {
    return id;
  }

  public String procedure() {
    return procedure;
  }

  /** The request's data as decoded: maps, lists, strings, numbers, booleans or null. */
  public Object data() {
    return data;
  }

  /** The request's data converted to {@code type} (a record, a POJO, a collection ...). */
  public <T> T data(Class<T> type) {
    return JsonCodec.instance().convert(data, type);
  }

  /** False when the client sent no {@code data} at all (not even null). */
  public boolean hasData() {
    return hasData;
  }

  public boolean isSent() {
    return sent.get();
  }

  /** Answers with no data. */
  public void end() {
    respond(false, null, null);
  }

  /** Answers with {@code data} (null is sent as JSON null). */
  public void end(Object data) {
    respond(true, data, null);
  }

  /** Answers with an error, dehydrated as sc-errors does it. */
  public void error(Throwable error) {
    respond(false, null, Errors.dehydrate(error));
  }

  /** Answers with an error that is already in wire form (a map, a string ...). */
  public void error(Object dehydratedError) {
    respond(false, null, dehydratedError == null ? Errors.dehydrate(null) : dehydratedError);
  }

  private void respond(boolean withData, Object responseData, Object error) {
    if (!sent.compareAndSet(false, true)) {
      throw AGError.invalidAction("Response to request " + id + " has already been sent");
    }
    try {
      if (error != null) {
        socket.sendResponse(id, "error", error);
      } else if (withData) {
        socket.sendResponse(id, "data", responseData);
      } else {
        socket.sendResponse(id, null, null);
      }
    } finally {
      // After the response is queued: a draining socket may close once it owes no answer.
      socket.answered();
    }
    if (counted) {
      socket.server().figures().rpcAnswered(System.nanoTime() - startedNanos, error != null);
    }
  }

  @Override
  public String toString() {
    return "AGRequest[" + procedure + " #" + id + "]";
  }
}
