package io.agserver.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * One SocketCluster connection: TCP connect, WebSocket upgrade ({@link Upgrade}), the
 * {@code #handshake} call (cid 1), then packets for its scenario's {@link Listener}. The server's
 * ping, an empty text frame, is answered with an empty text frame. Everything runs on the one
 * event loop; writes are flushed when a read burst ends, or by {@link #flush()}.
 */
final class Client extends ChannelInboundHandlerAdapter implements Packets.Sink {
  static final int NEW = 0;
  static final int CONNECTING = 1;
  static final int UPGRADING = 2;
  static final int HANDSHAKING = 3;
  static final int OPEN = 4;
  static final int CLOSING = 5;
  static final int CLOSED = 6;
  static final int FAILED = 7;

  /** What a scenario hears from its open connections. */
  interface Listener {
    default void reply(Client c, long rid, boolean error, ByteBuf frame, int dataStart, int dataEnd) {}

    default void event(Client c, ByteBuf frame, int nameStart, int nameEnd, int dataStart, int dataEnd) {}

    /** The connection ended although nobody closed it. */
    default void lost(Client c) {}
  }

  /** Told once whether the connection opened (handshake answered) or failed on the way. */
  interface OpenWatcher {
    void opened(Client c);

    void failed(Client c);
  }

  private static final byte[] HANDSHAKE =
      "{\"event\":\"#handshake\",\"data\":{\"authToken\":null},\"cid\":1}".getBytes(StandardCharsets.US_ASCII);

  final int id;
  private final Net net;
  /** The server this connection goes to. */
  final Net.Target target;
  private ChannelHandlerContext ctx;
  private OpenWatcher watcher;
  Listener listener;
  int state = NEW;
  String failure;
  long startNanos;
  long openNanos;
  long endNanos;
  private long cid = 1;
  private boolean wrote;
  private ScheduledFuture<?> timer;
  private Runnable onClosed;
  /** SO_RCVBUF before connecting; 0: the kernel's default (autotuned). */
  int receiveBuffer;
  /** The code of the server's close frame; -1 while none came. */
  int closeCode = -1;
  /**
   * Whether the server's pings are answered: a client that resumes reading after the server cut
   * it off reads old pings, and an answer written to a closed socket makes the kernel reset the
   * connection, which discards what was still to be read.
   */
  boolean answerPings = true;

  // Counters, read by the scenario on the event loop.
  int pings;
  long firstPingNanos;
  int badFrames;
  int binaryFrames;
  long frames;
  long packets;
  long arrayFrames;

  // Scenario state: in-flight calls by cid slot, and a free tag.
  long[] sentAt;
  long[] sentCid;
  int outstanding;
  int tag;

  Client(int id, Net net) {
    this(id, net, net.target);
  }

  Client(int id, Net net, Net.Target target) {
    this.id = id;
    this.net = net;
    this.target = target;
  }

  /** Connects; the watcher hears once, within {@code timeoutMs}, whether the handshake succeeded. */
  void start(OpenWatcher watcher, Listener listener, long timeoutMs) {
    this.watcher = watcher;
    this.listener = listener;
    state = CONNECTING;
    startNanos = System.nanoTime();
    timer = net.loop.schedule(() -> fail("timeout in state " + stateName()), timeoutMs, TimeUnit.MILLISECONDS);
    net.connect(this).addListener(f -> {
      if (!f.isSuccess()) {
        fail("connect: " + reason(f.cause()));
      }
    });
  }

  static String reason(Throwable t) {
    String m = t.getMessage();
    if (m != null) {
      int colon = m.indexOf(':');
      m = colon > 0 ? m.substring(colon + 1).trim() : m;
    }
    return t.getClass().getSimpleName() + (m == null ? "" : " " + m);
  }

  String stateName() {
    return switch (state) {
      case NEW -> "new";
      case CONNECTING -> "connecting";
      case UPGRADING -> "upgrading";
      case HANDSHAKING -> "handshaking";
      case OPEN -> "open";
      case CLOSING -> "closing";
      case CLOSED -> "closed";
      default -> "failed";
    };
  }

  long nextCid() {
    return ++cid;
  }

  /** Frames, packets, frames that were arrays, bad frames: summed over clients, for a result. */
  static java.util.Map<String, Object> frameCounts(java.util.Collection<Client> clients) {
    long f = 0;
    long p = 0;
    long a = 0;
    long bad = 0;
    for (Client c : clients) {
      f += c.frames;
      p += c.packets;
      a += c.arrayFrames;
      bad += c.badFrames;
    }
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("frames", f);
    m.put("packets", p);
    m.put("arrayFrames", a);
    m.put("packetsPerFrame", f == 0 ? 0 : Math.round(100.0 * p / f) / 100.0);
    m.put("badFrames", bad);
    return m;
  }

  boolean isOpen() {
    return state == OPEN;
  }

  /**
   * Stops or resumes reading the socket, as a client whose event loop stalls: the server's frames
   * then wait in the kernel's buffers, then in the server's own.
   */
  void reading(boolean on) {
    if (ctx != null) {
      ctx.channel().config().setAutoRead(on);
    }
  }

  /** The local address of the TCP connection, or null before it has one. */
  java.net.InetSocketAddress localAddress() {
    return ctx == null ? null : (java.net.InetSocketAddress) ctx.channel().localAddress();
  }

  boolean writable() {
    return ctx != null && ctx.channel().isWritable();
  }

  ByteBuf buffer(int capacity) {
    return ctx.alloc().buffer(capacity);
  }

  /** Queues one text frame; it goes out at the end of the read burst or with {@link #flush()}. */
  void send(ByteBuf json) {
    ctx.write(new TextWebSocketFrame(json), ctx.voidPromise());
    wrote = true;
  }

  void flush() {
    if (wrote) {
      wrote = false;
      ctx.flush();
    }
  }

  // --- handshake ------------------------------------------------------------------------------

  /** False when the connection was given up before TCP was up: the caller closes it. */
  boolean tcpConnected() {
    if (state == CONNECTING) {
      state = UPGRADING;
      return true;
    }
    return false;
  }

  void upgraded() {
    if (state != UPGRADING) {
      return;
    }
    state = HANDSHAKING;
    send(Unpooled.wrappedBuffer(HANDSHAKE));
    flush();
  }

  void fail(String why) {
    if (state >= CLOSING) {
      return;
    }
    boolean wasOpen = state == OPEN;
    state = FAILED;
    failure = why;
    endNanos = System.nanoTime();
    cancelTimer();
    if (ctx != null) {
      ctx.close();
    }
    if (wasOpen) {
      listener.lost(this);
    } else if (watcher != null) {
      watcher.failed(this);
    }
  }

  private void cancelTimer() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  // --- closing ----------------------------------------------------------------------------------

  /**
   * A clean close: a close frame (1000), then wait for the server to end the TCP connection (so
   * TIME_WAIT stays with the server, not with our ephemeral ports), forced after {@code graceMs}.
   */
  void close(long graceMs, Runnable done) {
    onClosed = done;
    if (state != OPEN || ctx == null || !ctx.channel().isActive()) {
      if (state < CLOSING) {
        state = CLOSED;
        if (ctx != null) {
          ctx.close();
        }
      }
      endNanos = System.nanoTime();
      runOnClosed();
      return;
    }
    state = CLOSING;
    ctx.writeAndFlush(new CloseWebSocketFrame(1000, ""));
    timer = net.loop.schedule(() -> ctx.close(), graceMs, TimeUnit.MILLISECONDS);
  }

  private void runOnClosed() {
    Runnable r = onClosed;
    onClosed = null;
    if (r != null) {
      r.run();
    }
  }

  // --- Netty ------------------------------------------------------------------------------------

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cancelTimer();
    if (state == CLOSING) {
      state = CLOSED;
      endNanos = System.nanoTime();
      runOnClosed();
    } else if (state == OPEN) {
      fail("closed by the server");
    } else if (state < OPEN) {
      fail("closed in state " + stateName());
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof TextWebSocketFrame frame) {
        ByteBuf b = frame.content();
        if (!b.isReadable()) {
          if (pings++ == 0) {
            firstPingNanos = System.nanoTime();
          }
          if (answerPings) {
            send(Unpooled.EMPTY_BUFFER);
          }
        } else {
          frames++;
          int n = Packets.scan(b, this);
          if (n < 0) {
            badFrames++;
          } else {
            packets += n;
            if (b.getByte(b.readerIndex()) == '[') {
              arrayFrames++;
            }
          }
        }
      } else if (msg instanceof PingWebSocketFrame ping) {
        ctx.write(new PongWebSocketFrame(ping.content().retain()), ctx.voidPromise());
        wrote = true;
      } else if (msg instanceof CloseWebSocketFrame close) {
        closeCode = close.statusCode();
        if (state == OPEN) {
          fail("close frame from the server (" + closeCode + ")");
        } else if (state == CLOSING) {
          ctx.close();
        }
      } else if (msg instanceof BinaryWebSocketFrame) {
        binaryFrames++;
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    flush();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    fail("error: " + reason(cause));
  }

  // --- packets ----------------------------------------------------------------------------------

  @Override
  public void reply(long rid, boolean error, ByteBuf frame, int dataStart, int dataEnd) {
    if (state == HANDSHAKING) {
      if (rid != 1) {
        badFrames++;
      } else if (error || dataStart < 0) {
        fail("handshake refused");
      } else {
        state = OPEN;
        openNanos = System.nanoTime();
        cancelTimer();
        watcher.opened(this);
      }
      return;
    }
    if (state == OPEN || state == CLOSING) {
      listener.reply(this, rid, error, frame, dataStart, dataEnd);
    }
  }

  @Override
  public void event(ByteBuf frame, int nameStart, int nameEnd, int dataStart, int dataEnd) {
    if (state == OPEN || state == CLOSING) {
      listener.event(this, frame, nameStart, nameEnd, dataStart, dataEnd);
    }
  }
}
