package io.agserver.core;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

import io.agserver.middleware.MiddlewareType;
import io.agserver.AGAction;
import io.agserver.AGRequest;
import io.agserver.AGServerSocket;
import io.agserver.event.AGSocketEvent;
import io.agserver.protocol.AGError;

/**
 * What a socket's machinery (inbound processing, auth, pub/sub packets, subscriptions, batching)
 * needs of its socket beyond the public API: the socket gives each piece this view of itself,
 * so that none of it has to be public on {@link AGServerSocket}.
 */
public interface SocketContext {

  /** The socket as applications see it. */
  AGServerSocket socket();

  ServerContext server();

  default String id() {
    return socket().id();
  }

  default AGServerSocket.State state() {
    return socket().state();
  }

  /** Emits a socket event to its listener stream. */
  void emit(String name, AGSocketEvent event);

  /** Whether anyone listens to the socket event {@code name} (events are built only then). */
  boolean listens(String name);

  default void emitError(Throwable error) {
    socket().emitError(error);
  }

  default void disconnect(int code, String reason) {
    socket().disconnect(code, reason);
  }

  /** setAuthToken's signing failed: close with {@code code}. */
  void closeForAuthFailure(int code, String reason);

  /** Whether anything sits on the middleware line. */
  default boolean hasMiddleware(MiddlewareType line) {
    return server().middleware().has(line);
  }

  /** Runs the action through a line: the data to use, or the client's error. */
  CompletableFuture<Object> middleware(MiddlewareType line, AGAction action);

  /** One inbound message has been handled (inbound back-pressure). */
  void inboundProcessed();

  /** A response from the client to one of the server's invokes. */
  void handleResponse(Object rid, Object error, Object data);

  void writeReceiver(String receiverName, Object data);

  void writeProcedure(String procedureName, AGRequest request);

  /** A client's RPC, answered through this socket. */
  AGRequest request(Object cid, String procedure, Object data, boolean hasData);

  /**
   * A client's call of an application procedure: as {@link #request}, and its answer is counted
   * in the server's figures with its duration since {@code startedNanos} ({@link System#nanoTime}).
   */
  AGRequest call(Object cid, String procedure, Object data, boolean hasData, long startedNanos);

  /** The handshake was accepted: from pending to connected. False if the socket closed meanwhile. */
  boolean open();

  void startBatchOnHandshake();

  void emitConnect(Map<String, Object> status, AGError authError);

  SocketAuth auth();

  SocketSubscriptions subscriptions();

  /** A publication as a recovering subscription gets it, {@code {offset, epoch, data}}, through outbound middleware. */
  void deliverPositioned(String channel, Object data, io.agserver.pubsub.StreamPosition position);

  /** A packet sent after the publishes still in outbound middleware. */
  void sendAfterPublishes(Map<String, Object> packet);

  /** Encodes a packet with the server's codec; null (after an error event) when it cannot. */
  String serialize(Object packet);

  default void sendObject(Object packet) {
    socket().sendObject(packet);
  }

  default void sendEncoded(String encoded) {
    socket().sendEncoded(encoded);
  }
}
