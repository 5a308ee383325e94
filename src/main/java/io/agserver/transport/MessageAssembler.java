package io.agserver.transport;

import java.nio.ByteBuffer;
import java.util.Arrays;

import io.agserver.core.Connection;
import io.agserver.protocol.AGError;
import io.agserver.protocol.CloseCodes;

/**
 * Enforces {@code maxPayload} on whole messages as ws does: a message over it closes the socket
 * with 1009 and no reason (the official client then reports sc-errors' "Message was too big to
 * process").
 *
 * <p>Open Liberty checks each frame against the session's buffer size, before reading it, and
 * closes with 1009 and its own reason ("Invalid incoming WebSocket message. Message is too big.
 * ..."); with whole-message handlers it also keeps every frame of a fragmented message with no
 * limit on their sum, so a client could send continuation frames forever. So this class is the
 * session's partial handler for text and binary, and the container's per-frame limit is set a
 * little above maxPayload ({@link #containerLimit}): a message of one frame is checked here and
 * handed to the socket; the frames of a fragmented one are counted and collected here, and the
 * socket is closed as soon as they pass maxPayload. Only a frame larger than the container's limit
 * gets Liberty's close reason.
 *
 * <p>Known difference: with partial handlers Liberty decodes each text frame on its own, so a
 * fragmented text message that splits a UTF-8 sequence across frames is refused with 1007 (ws
 * accepts it). Neither browsers nor ws fragment the messages they send.
 *
 * <p>Known difference: a client that goes on sending after its message passed maxPayload may see
 * its connection reset rather than the 1009 close. Liberty closes the connection right after the
 * close frame, with what the client sent meanwhile unread, and the kernel ends a connection
 * closed with unread data with a reset, dropping what it had not sent yet: at times the close
 * frame (ws reads and drops what comes until the client's close). The official client
 * reconnects after either.
 *
 * <p>Binary messages are copied before they are handed on: the container owns the buffer it
 * passes and may fill it again with the next frame.
 *
 * <p>The container calls the handlers of one session one frame at a time, so the fields need no
 * synchronization.
 */
final class MessageAssembler {

  private final Connection socket;
  private final long maxPayload;

  private StringBuilder text;
  private byte[] binary;
  private int binaryLength;
  private long size;
  private boolean tooBig;

  MessageAssembler(Connection socket, long maxPayload) {
    this.socket = socket;
    this.maxPayload = maxPayload;
  }

  void onText(String part, boolean last) {
    if (tooBig) {
      return;
    }
    if (text == null && last) {
      // One frame. A UTF-8 byte is at most one char, a char at most 3 bytes: count only when needed.
      if (part.length() > maxPayload || (3L * part.length() > maxPayload && utf8Length(part) > maxPayload)) {
        reject();
      } else {
        socket.receive(part);
      }
      return;
    }
    size += utf8Length(part);
    if (size > maxPayload) {
      reject();
      return;
    }
    if (text == null) {
      text = new StringBuilder(part);
    } else {
      text.append(part);
    }
    if (last) {
      String message = text.toString();
      text = null;
      size = 0;
      socket.receive(message);
    }
  }

  void onBinary(ByteBuffer part, boolean last) {
    if (tooBig) {
      return;
    }
    if (binary == null && last) {
      if (part.remaining() > maxPayload) {
        reject();
      } else {
        // The container may reuse its buffer once this handler returns, while the socket may
        // still queue the message or hand it to the application as a raw message.
        byte[] copy = new byte[part.remaining()];
        part.get(copy);
        socket.receive(ByteBuffer.wrap(copy));
      }
      return;
    }
    size += part.remaining();
    if (size > maxPayload) {
      reject();
      return;
    }
    int needed = binaryLength + part.remaining();
    if (binary == null) {
      binary = new byte[Math.max(needed, 1024)];
    } else if (needed > binary.length) {
      binary = Arrays.copyOf(binary, (int) Math.min(maxPayload, Math.max(needed, 2L * binary.length)));
    }
    part.get(binary, binaryLength, part.remaining());
    binaryLength = needed;
    if (last) {
      ByteBuffer message = ByteBuffer.wrap(binary, 0, binaryLength);
      binary = null;
      binaryLength = 0;
      size = 0;
      socket.receive(message.slice());
    }
  }

  private void reject() {
    tooBig = true;
    text = null;
    binary = null;
    socket.failed(new AGError("RangeError", "Max payload size exceeded"));
    socket.socket().disconnect(CloseCodes.MESSAGE_TOO_BIG, null);
  }

  /**
   * The per-frame buffer size for the container: maxPayload plus up to 1 MiB, so that a message a
   * little over maxPayload is refused here, as ws refuses it, at a bounded extra cost per
   * connection.
   */
  static int containerLimit(long maxPayload) {
    long slack = Math.min(maxPayload, 1024 * 1024);
    return (int) Math.min(Integer.MAX_VALUE, maxPayload + slack);
  }

  /** Bytes of the UTF-8 encoding of a string the container decoded (so no lone surrogates). */
  static long utf8Length(String s) {
    long n = 0;
    for (int i = 0, len = s.length(); i < len; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isSurrogate(c)) {
        n += 2; // a pair is 4 bytes
      } else {
        n += 3;
      }
    }
    return n;
  }
}
