package io.agserver.core;

import io.agserver.AGServerSocket;

/**
 * One socket as its transport drives it: frames in, the connection's end, its failures. Kept off
 * {@link AGServerSocket}'s public API, which is the application's.
 */
public interface Connection {

  AGServerSocket socket();

  /** A text ({@code String}) or binary ({@code ByteBuffer}) message arrived; one at a time. */
  void receive(Object message);

  /** The connection closed with this code and reason. */
  void closed(int code, String reason);

  /** The connection failed; it closes separately. */
  void failed(Throwable error);
}
