package io.agserver.codec;

import java.nio.ByteBuffer;
import io.agserver.protocol.AGError;

/**
 * The wire codec, with sc-formatter's contract. Pluggable; {@link JsonCodec} is the default.
 */
public interface AGCodec {

  /**
   * A packet (Map, List, ...) or, when the message is not JSON, the message itself. Never throws
   * for bad input; "#1" and "#2" (ping, pong) come back as they are.
   */
  Object decode(String message);

  /** A binary frame: the UTF-8 text of its remaining bytes, then as {@link #decode(String)}. */
  Object decode(ByteBuffer binary);

  /**
   * The text to send. "#1" and "#2" are sent as they are, not as JSON strings.
   *
   * @throws AGError when the value cannot be encoded
   */
  String encode(Object value);
}
