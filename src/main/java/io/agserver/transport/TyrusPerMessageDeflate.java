package io.agserver.transport;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

import jakarta.websocket.Extension;

import org.glassfish.tyrus.core.extension.ExtendedExtension;
import org.glassfish.tyrus.core.frame.Frame;

/**
 * permessage-deflate (RFC 7692) for one connection on Tyrus, the WebSocket runtime of Payara and
 * GlassFish, which runs an {@link ExtendedExtension}'s code on every frame. Loaded by name only
 * where Tyrus is the runtime ({@link PerMessageDeflate}); nothing else refers to this class.
 *
 * <p>Behaves as Node's ws with {@code perMessageDeflate: true}, the original's engine: messages
 * under 1 KiB go uncompressed (ws's threshold), the compression level is zlib's default, both
 * sides keep their context between messages unless the client asks otherwise, and an offer the
 * server cannot honour is declined rather than misread. Java's Deflater always uses a 32 KiB
 * window, so an offer with {@code server_max_window_bits} below 15 is declined (the client may
 * send another offer in the same header, or none is accepted and the connection is uncompressed).
 *
 * <p>A compressed message that inflates past {@code maxPayload} closes the connection with 1009,
 * as ws does, without ever holding more than maxPayload inflated bytes. Invalid compressed data
 * closes it with 1007.
 *
 * <p>Threads: Tyrus calls processIncoming on the connection's read thread, one frame at a time,
 * and processOutgoing on the writing thread, one send at a time (the outbound queue) except for
 * control frames, which are left alone. Each direction has its own zlib stream and lock, so the
 * locks are uncontended; they make what one sender thread left visible to the next. Both streams
 * are created on first use: a connection that never sends or receives 1 KiB costs no zlib memory
 * (a deflater with a 32 KiB window costs about 256 KiB of native memory, an inflater about 40).
 */
final class TyrusPerMessageDeflate implements ExtendedExtension {

  static final String NAME = "permessage-deflate";
  /** ws's default threshold: smaller messages are sent as they are. */
  static final int THRESHOLD = 1024;
  private static final byte[] TAIL = {0x00, 0x00, (byte) 0xff, (byte) 0xff};
  private static final int CLOSE_TOO_BIG = 1009;
  private static final int CLOSE_INVALID_DATA = 1007;

  private final long maxPayload;
  private final boolean serverNoContextTakeover;
  private final boolean clientNoContextTakeover;
  private final List<Parameter> response;

  private final Object outLock = new Object();
  private Deflater deflater;
  /** Whether the message being sent is compressed (for its continuation frames). */
  private boolean outCompressed;

  private final Object inLock = new Object();
  private Inflater inflater;
  private boolean inCompressed;
  private long inSize;
  private boolean inFailed;

  private TyrusPerMessageDeflate(long maxPayload, boolean serverNoContextTakeover, boolean clientNoContextTakeover,
      List<Parameter> response) {
    this.maxPayload = maxPayload;
    this.serverNoContextTakeover = serverNoContextTakeover;
    this.clientNoContextTakeover = clientNoContextTakeover;
    this.response = response;
  }

  /** Called by name from {@link PerMessageDeflate}: the negotiator of one server. */
  static DeflateNegotiator negotiator(long maxPayload) {
    return requested -> {
      for (Extension offer : requested) {
        if (NAME.equals(offer.getName())) {
          TyrusPerMessageDeflate accepted = accept(offer.getParameters(), maxPayload);
          if (accepted != null) {
            return accepted;
          }
        }
      }
      return null;
    };
  }

  /** The extension for an offer with these parameters, or null when it must be declined. */
  static TyrusPerMessageDeflate accept(List<Parameter> offered, long maxPayload) {
    Set<String> seen = new HashSet<>();
    boolean serverNoContext = false;
    boolean clientNoContext = false;
    boolean serverBits = false;
    for (Parameter parameter : offered) {
      String name = parameter.getName();
      String value = parameter.getValue();
      boolean hasValue = value != null && !value.isEmpty();
      if (!seen.add(name)) {
        return null; // RFC 7692 5.1: a parameter given twice declines the offer
      }
      switch (name) {
        case "server_no_context_takeover" -> {
          if (hasValue) {
            return null;
          }
          serverNoContext = true;
        }
        case "client_no_context_takeover" -> {
          if (hasValue) {
            return null;
          }
          clientNoContext = true;
        }
        case "server_max_window_bits" -> {
          // Our deflater's window is 15 bits: only an offer that allows 15 is one we can honour.
          if (windowBits(value) != 15) {
            return null;
          }
          serverBits = true;
        }
        case "client_max_window_bits" -> {
          // Any client window inflates with ours (15 bits); no need to limit the client.
          if (hasValue && windowBits(value) < 0) {
            return null;
          }
        }
        default -> {
          return null; // an unknown parameter declines the offer
        }
      }
    }
    List<Parameter> response = new ArrayList<>();
    if (serverNoContext) {
      response.add(parameter("server_no_context_takeover", null));
    }
    if (clientNoContext) {
      response.add(parameter("client_no_context_takeover", null));
    }
    if (serverBits) {
      response.add(parameter("server_max_window_bits", "15"));
    }
    return new TyrusPerMessageDeflate(maxPayload, serverNoContext, clientNoContext, List.copyOf(response));
  }

  /** 8 to 15, else -1. */
  private static int windowBits(String value) {
    if (value == null) {
      return -1;
    }
    String digits = value.startsWith("\"") && value.endsWith("\"") && value.length() > 1
        ? value.substring(1, value.length() - 1) : value;
    try {
      int bits = Integer.parseInt(digits);
      return bits >= 8 && bits <= 15 ? bits : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static Parameter parameter(String name, String value) {
    return new Parameter() {
      @Override
      public String getName() {
        return name;
      }

      @Override
      public String getValue() {
        return value;
      }

      @Override
      public String toString() {
        return value == null ? name : name + "=" + value;
      }
    };
  }

  // ---- Extension ----

  @Override
  public String getName() {
    return NAME;
  }

  @Override
  public List<Parameter> getParameters() {
    return response;
  }

  @Override
  public List<Parameter> onExtensionNegotiation(ExtensionContext context, List<Parameter> requestedParameters) {
    // Tyrus asks again while writing the response header, with null: the answer was fixed in accept.
    return response;
  }

  @Override
  public void onHandshakeResponse(ExtensionContext context, List<Parameter> responseParameters) {
    // Client side only.
  }

  @Override
  public void destroy(ExtensionContext context) {
    synchronized (outLock) {
      if (deflater != null) {
        deflater.end();
        deflater = null;
      }
    }
    synchronized (inLock) {
      if (inflater != null) {
        inflater.end();
        inflater = null;
      }
    }
  }

  // ---- outgoing ----

  @Override
  public Frame processOutgoing(ExtensionContext context, Frame frame) {
    if (frame.isControlFrame()) {
      return frame;
    }
    synchronized (outLock) {
      boolean first = frame.getOpcode() != 0;
      if (first) {
        // A fragmented message's size is unknown at its first frame: compress it whole.
        outCompressed = !frame.isFin() || frame.getPayloadLength() >= THRESHOLD;
      }
      if (!outCompressed) {
        return frame;
      }
      if (deflater == null) {
        deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
      }
      byte[] payload = frame.getPayloadData();
      deflater.setInput(payload);
      byte[] compressed = new byte[Math.max(64, payload.length / 2 + 64)];
      int length = 0;
      while (true) {
        length += deflater.deflate(compressed, length, compressed.length - length, Deflater.SYNC_FLUSH);
        if (length < compressed.length) {
          break; // SYNC_FLUSH left room: all input is out
        }
        compressed = Arrays.copyOf(compressed, compressed.length * 2);
      }
      if (frame.isFin()) {
        // RFC 7692 7.2.1: a message ends without the flush's empty block marker.
        if (length >= 4 && compressed[length - 4] == TAIL[0] && compressed[length - 3] == TAIL[1]
            && compressed[length - 2] == TAIL[2] && compressed[length - 1] == TAIL[3]) {
          length -= 4;
        }
        if (serverNoContextTakeover) {
          deflater.reset();
        }
      }
      return Frame.builder(frame).payloadData(compressed).payloadLength(length).rsv1(first).build();
    }
  }

  // ---- incoming ----

  @Override
  public Frame processIncoming(ExtensionContext context, Frame frame) {
    if (frame.isControlFrame()) {
      return frame;
    }
    synchronized (inLock) {
      if (inFailed) {
        return frame;
      }
      if (frame.getOpcode() != 0) {
        inCompressed = frame.isRsv1();
        inSize = 0;
      } else if (frame.isRsv1()) {
        return frame; // RSV1 on a continuation: Tyrus refuses it as a protocol error (1002)
      }
      if (!inCompressed) {
        return frame;
      }
      if (inflater == null) {
        inflater = new Inflater(true);
      }
      try {
        long limit = maxPayload - inSize; // what this message may still inflate to
        out = new byte[(int) Math.min(Math.max(64, 4L * frame.getPayloadLength()), limit + 1)];
        outLength = 0;
        if (!inflate(frame.getPayloadData(), limit)) {
          return tooBig();
        }
        if (frame.isFin()) {
          if (!inflate(TAIL, limit)) {
            return tooBig();
          }
          if (clientNoContextTakeover || inflater.finished()) {
            inflater.reset();
          }
        }
        inSize += outLength;
        byte[] payload = Arrays.copyOf(out, outLength);
        out = null;
        return Frame.builder(frame).payloadData(payload).rsv1(false).build();
      } catch (DataFormatException e) {
        inFailed = true;
        return close(CLOSE_INVALID_DATA, "Invalid compressed data");
      }
    }
  }

  // What processIncoming inflates into (guarded by inLock, for one frame).
  private byte[] out;
  private int outLength;

  /** Inflates all of {@code input} into {@link #out}; false once it passes {@code limit} bytes. */
  private boolean inflate(byte[] input, long limit) throws DataFormatException {
    inflater.setInput(input);
    while (true) {
      if (outLength == out.length) {
        if (outLength > limit) {
          return false;
        }
        out = Arrays.copyOf(out, (int) Math.min(2L * out.length, limit + 1));
      }
      int n = inflater.inflate(out, outLength, out.length - outLength);
      outLength += n;
      if (outLength > limit) {
        return false;
      }
      if (n == 0 && (inflater.needsInput() || inflater.finished() || inflater.needsDictionary())) {
        return true;
      }
    }
  }

  private Frame tooBig() {
    inFailed = true;
    return close(CLOSE_TOO_BIG, "");
  }

  /** A close frame in place of the message: Tyrus then closes the connection with this code. */
  private static Frame close(int code, String reason) {
    byte[] text = reason.getBytes(StandardCharsets.UTF_8);
    byte[] payload = new byte[2 + text.length];
    payload[0] = (byte) (code >> 8);
    payload[1] = (byte) code;
    System.arraycopy(text, 0, payload, 2, text.length);
    return Frame.builder().fin(true).opcode((byte) 0x08).payloadData(payload).build();
  }
}
