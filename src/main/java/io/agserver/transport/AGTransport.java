package io.agserver.transport;

import java.util.function.Consumer;

/**
 * One WebSocket connection as the socket sees it. The socket never has more than one send in
 * flight, so an implementation may map {@link #sendText} straight onto an asynchronous send.
 */
public interface AGTransport {

  /** Sends one text frame; {@code done} receives null on success or the failure. */
  void sendText(String text, Consumer<Throwable> done);

  /** Sends one binary frame; {@code done} receives null on success or the failure. */
  void sendBinary(java.nio.ByteBuffer data, Consumer<Throwable> done);

  /** Starts the closing handshake with this code and reason (reason may be null). */
  void close(int code, String reason);

  /** Drops the connection without a closing handshake. */
  void terminate();

  /** Bytes received so far, when the transport counts them; -1 otherwise. */
  default long bytesReceived() {
    return -1;
  }
}
