package io.agserver.core;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

import io.agserver.AGServerSocket;
import io.agserver.config.LimitOptions;
import io.agserver.ops.Refusals;
import io.agserver.ops.TokenBucket;
import io.agserver.protocol.AGError;
import io.agserver.protocol.CloseCodes;
import io.agserver.protocol.Errors;

/**
 * {@code socketcluster.rateLimit} on one socket: its token bucket, and what becomes of a message
 * that finds it empty. Such a message reaches no middleware and no handler: it is decoded, each
 * RPC in it (an event with a cid: invokes, {@code #subscribe}, {@code #publish} with a cid ...)
 * is answered with a {@code RateLimitError}, and anything else (a transmit, a {@code #publish}
 * without cid) is dropped with a {@code RateLimitError} on the socket's error stream and as a
 * server warning. A response to one of the server's own invokes is handled even then: the server
 * asked for it. Pongs never come here. Once {@code closeAfter} messages were refused since the
 * bucket was last full, the socket is closed with 1008.
 *
 * <p>Runs on the socket's inbound queue only (see {@link TokenBucket}).
 */
final class InboundRateLimit {

  static final String CLOSE_REASON = "Rate limit exceeded";

  private final SocketContext socket;
  private final ServerContext server;
  private final TokenBucket bucket;
  private final int closeAfter;
  private final String limit;
  /** The RPC answer, dehydrated once for the socket (its first refusal). */
  private Object answer;

  private InboundRateLimit(SocketContext socket, LimitOptions options) {
    this.socket = socket;
    this.server = socket.server();
    this.bucket = new TokenBucket(options.messagesPerSecond(), options.burst(), server.scheduler().now());
    this.closeAfter = options.closeAfter();
    this.limit = format(options.messagesPerSecond()) + " messages per second, bursts of " + options.burst();
  }

  /** The socket's rate limit, or null when the server has none. */
  static InboundRateLimit of(SocketContext socket) {
    LimitOptions options = socket.server().options().limits();
    return options.limitsRate() && socket.server().limitsApply() ? new InboundRateLimit(socket, options) : null;
  }

  /** Takes a token for a message (or a batch's next packet) that arrived at {@code arrivedAt}. */
  boolean admits(long arrivedAt) {
    return bucket.take(arrivedAt);
  }

  /** A message that found no token: each packet in it refused (a response handled). */
  void refuseMessage(Object message) {
    socket.inboundProcessed();
    if (socket.state() == AGServerSocket.CLOSED) {
      return;
    }
    Object decoded;
    try {
      decoded = message instanceof ByteBuffer bytes
          ? server.codec().decode(bytes.duplicate())
          : server.codec().decode(String.valueOf(message));
    } catch (RuntimeException e) {
      decoded = message;
    }
    if (decoded instanceof List<?> batch) {
      for (Object packet : batch) {
        refusePacket(packet);
      }
    } else {
      refusePacket(decoded);
    }
  }

  /** One packet that found no token. */
  void refusePacket(Object packet) {
    if (socket.state() == AGServerSocket.CLOSED) {
      return;
    }
    Map<?, ?> map = packet instanceof Map<?, ?> m ? m : null;
    Object event = map == null ? null : map.get("event");
    if (map != null && !(event instanceof String) && map.get("rid") instanceof Number rid) {
      socket.handleResponse(rid, map.get("error"), map.get("data"));
      return;
    }
    Object cid = map == null ? null : map.get("cid");
    String name = event instanceof String s ? s : null;
    boolean rpc = name != null && cid instanceof Number;
    if (rpc) {
      if (answer == null) {
        answer = Errors.dehydrate(AGError.rateLimit("Rate limit exceeded: " + limit));
      }
      socket.request(cid, name, null, false).error(answer);
    } else {
      socket.emitError(AGError.rateLimit("Socket " + socket.id() + " exceeded its rate limit (" + limit + "): "
          + (name == null ? "a message" : "'" + name + "'") + " was dropped"));
    }
    refused(name, rpc);
  }

  private void refused(String event, boolean rpc) {
    Refusals refusals = server.refusals();
    refusals.messageRefused(socket.id(), event, rpc);
    int refused = bucket.refused();
    if (closeAfter > 0 && refused >= closeAfter) {
      socket.emitError(AGError.rateLimit("Socket " + socket.id() + " was closed: " + refused
          + " messages over its rate limit (" + limit + ") since it last paused"));
      refusals.closedForFlooding(socket.id(), refused);
      socket.disconnect(CloseCodes.POLICY_VIOLATION, CLOSE_REASON);
    }
  }

  private static String format(double number) {
    return number == Math.rint(number) ? Long.toString((long) number) : Double.toString(number);
  }
}
