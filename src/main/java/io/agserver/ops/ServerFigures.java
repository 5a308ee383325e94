package io.agserver.ops;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToLongFunction;

/**
 * A server's figures: what it counted since it started (connections, handshakes, messages and
 * bytes, RPCs, publishes, deliveries, closes by code, slow consumers cut off, rate-limited
 * messages, Redis publish round trips) and what it holds now (connections, subscriptions,
 * channels, outbound characters waiting), read as a {@link Snapshot}.
 *
 * <p>Always on, and cheap enough to be: each count is a {@link LongAdder} that the socket's own
 * threads add to without a lock or an allocation, and what the server holds now is not counted
 * at all but read from the server when the figures are read ({@link Live}), so that nothing is
 * kept twice and nothing can drift. MicroProfile Metrics, when the runtime has it, exports these
 * figures ({@link MetricsBinding}); the admin page reads them directly.
 *
 * <p>Counts only grow. Two snapshots make rates ({@link Snapshot#perSecond}).
 */
public final class ServerFigures {

  /** What the server holds at the moment it is asked; every method may walk every socket. */
  public interface Live {
    /** WebSocket connections open, before and after their {@code #handshake}. */
    int connections();

    /** Sockets past their {@code #handshake} (the server's {@code clientsCount}). */
    int clients();

    /** Channel subscriptions of all sockets (a socket in three channels counts three). */
    long subscriptions();

    /** Channels with at least one subscriber on this instance. */
    int channels();

    /** Characters queued for clients and not yet written, over all sockets. */
    long outboundWaitingCharacters();

    /** Frames queued for clients and not yet written (including those being written), over all sockets. */
    long outboundWaitingFrames();

    /** The channels with the most local subscribers, most first, at most {@code limit}. */
    List<ChannelFigure> topChannels(int limit);

    /** The sockets with the most characters waiting for them, most first, at most {@code limit}. */
    List<SocketFigure> slowestSockets(int limit);

    /** What waits for the socket of that id (pending or connected), or null when there is none. */
    SocketFigure socket(String id);
  }

  /** A channel and its subscribers on this instance. */
  public record ChannelFigure(String channel, int subscribers) {}

  /** A socket and what waits to be written to it. */
  public record SocketFigure(String id, String remoteAddress, long waitingCharacters, int waitingFrames) {}

  /** Why a client that did not read was cut off. */
  public enum CutOff {
    /** More than {@code socketcluster.outboundBufferLimit} characters waited for it (close 1008). */
    OUTBOUND_BUFFER("outbound_buffer"),
    /** One write took longer than {@code socketcluster.sendTimeout}. */
    SEND_TIMEOUT("send_timeout");

    private final String tag;

    CutOff(String tag) {
      this.tag = tag;
    }

    /** The value of the {@code reason} tag. */
    public String tag() {
      return tag;
    }
  }

  /** Receives one measured duration, in nanoseconds. */
  @FunctionalInterface
  public interface DurationRecorder {
    DurationRecorder NONE = nanos -> {};

    void record(long nanos);
  }

  /** Close codes counted one by one; any other (not a valid WebSocket close code) counts as {@link #OTHER_CODE}. */
  static final int FIRST_CODE = 1000;
  static final int LAST_CODE = 4999;
  /** The key of the codes outside {@value #FIRST_CODE}..{@value #LAST_CODE} in {@link Snapshot#closedByCode}. */
  public static final String OTHER_CODE = "other";

  private final Live live;

  private final LongAdder connectionsAccepted = new LongAdder();
  private final LongAdder connectionsClosed = new LongAdder();
  // One adder per close code seen, made on its first close (at most 4,000, in practice a handful).
  private final AtomicReferenceArray<LongAdder> closedByCode = new AtomicReferenceArray<>(LAST_CODE - FIRST_CODE + 1);
  private final LongAdder closedOther = new LongAdder();
  private final LongAdder handshakes = new LongAdder();
  private final LongAdder messagesReceived = new LongAdder();
  private final LongAdder bytesReceived = new LongAdder();
  private final LongAdder messagesSent = new LongAdder();
  private final LongAdder bytesSent = new LongAdder();
  private final LongAdder rpcs = new LongAdder();
  private final LongAdder rpcErrors = new LongAdder();
  private final LongAdder rpcNanos = new LongAdder();
  private final LongAdder publishes = new LongAdder();
  private final LongAdder deliveries = new LongAdder();
  private final LongAdder cutOffOutboundBuffer = new LongAdder();
  private final LongAdder cutOffSendTimeout = new LongAdder();
  private final LongAdder rateLimited = new LongAdder();
  private final LongAdder brokerPublishes = new LongAdder();
  private final LongAdder brokerPublishErrors = new LongAdder();
  private final LongAdder brokerPublishNanos = new LongAdder();

  // Set once by an exporter that wants each duration (MicroProfile Metrics' timers); NONE otherwise.
  private volatile DurationRecorder rpcDurations = DurationRecorder.NONE;
  private volatile DurationRecorder brokerPublishDurations = DurationRecorder.NONE;

  public ServerFigures(Live live) {
    this.live = live;
  }

  // ---- counting: called on the server's hot paths ----

  /** A WebSocket connection was accepted: its socket exists and waits for its {@code #handshake}. */
  public void connectionAccepted() {
    connectionsAccepted.increment();
  }

  /** An accepted connection's socket closed with {@code code} (once per socket). */
  public void connectionClosed(int code) {
    connectionsClosed.increment();
    if (code < FIRST_CODE || code > LAST_CODE) {
      closedOther.increment();
      return;
    }
    int index = code - FIRST_CODE;
    LongAdder adder = closedByCode.get(index);
    if (adder == null) {
      closedByCode.compareAndSet(index, null, new LongAdder());
      adder = closedByCode.get(index);
    }
    adder.increment();
  }

  /** A socket's {@code #handshake} was accepted: it is a client now. */
  public void handshake() {
    handshakes.increment();
  }

  /** A message arrived from a client: a {@code String} (text) or a {@code ByteBuffer} (binary). */
  public void received(Object message) {
    messagesReceived.increment();
    if (message instanceof CharSequence text) {
      bytesReceived.add(Utf8Length.of(text));
    } else if (message instanceof ByteBuffer data) {
      bytesReceived.add(data.remaining());
    }
  }

  /** A text frame was handed to the transport (pings included; a coalesced frame is one). */
  public void sent(String text) {
    messagesSent.increment();
    bytesSent.add(Utf8Length.of(text));
  }

  /** A binary frame was handed to the transport. */
  public void sent(ByteBuffer data) {
    messagesSent.increment();
    bytesSent.add(data.remaining());
  }

  /**
   * A client's RPC (an {@code invoke} of an application procedure) was answered, {@code nanos}
   * after the server started handling it; {@code error}: with an error.
   */
  public void rpcAnswered(long nanos, boolean error) {
    rpcs.increment();
    rpcNanos.add(nanos);
    if (error) {
      rpcErrors.increment();
    }
    rpcDurations.record(nanos);
  }

  /** A publish entered the exchange on this instance (from a client or from the server). */
  public void published() {
    publishes.increment();
  }

  /** A publication was queued for one local socket (after outbound middleware allowed it). */
  public void delivered() {
    deliveries.increment();
  }

  /** A client that did not read what was sent to it was disconnected. */
  public void cutOff(CutOff reason) {
    (reason == CutOff.SEND_TIMEOUT ? cutOffSendTimeout : cutOffOutboundBuffer).increment();
  }

  /**
   * A client's message was refused by the inbound rate limit. For the rate limiter to call, once
   * per message it drops or refuses; nothing else counts here.
   */
  public void rateLimited() {
    rateLimited.increment();
  }

  /** The broker (Redis) confirmed a publish command {@code nanos} after it was sent. */
  public void brokerPublished(long nanos) {
    brokerPublishes.increment();
    brokerPublishNanos.add(nanos);
    brokerPublishDurations.record(nanos);
  }

  /** A publish command failed: the broker refused it, did not answer in time, or could not be reached. */
  public void brokerPublishFailed() {
    brokerPublishErrors.increment();
  }

  // ---- exporters ----

  /** Every RPC's duration also goes to {@code recorder} (null: none). */
  public void recordRpcDurations(DurationRecorder recorder) {
    rpcDurations = recorder == null ? DurationRecorder.NONE : recorder;
  }

  /** Every confirmed broker publish's round trip also goes to {@code recorder} (null: none). */
  public void recordBrokerPublishDurations(DurationRecorder recorder) {
    brokerPublishDurations = recorder == null ? DurationRecorder.NONE : recorder;
  }

  // ---- reading ----

  /** What the server holds now (each call reads the server again). */
  public Live live() {
    return live;
  }

  /** Every figure now: the counts since start and what the server holds. */
  public Snapshot snapshot() {
    return new Snapshot(Instant.now(), System.nanoTime(),
        live.connections(), live.clients(), live.subscriptions(), live.channels(),
        live.outboundWaitingCharacters(), live.outboundWaitingFrames(),
        connectionsAccepted.sum(), connectionsClosed.sum(), closedByCode(), handshakes.sum(),
        messagesReceived.sum(), bytesReceived.sum(), messagesSent.sum(), bytesSent.sum(),
        rpcs.sum(), rpcErrors.sum(), rpcNanos.sum(), publishes.sum(), deliveries.sum(),
        cutOffOutboundBuffer.sum(), cutOffSendTimeout.sum(), rateLimited.sum(),
        brokerPublishes.sum(), brokerPublishErrors.sum(), brokerPublishNanos.sum());
  }

  /** Closes so far by code ({@link #OTHER_CODE} for the invalid ones), in code order; only codes seen. */
  public Map<String, Long> closedByCode() {
    Map<String, Long> counts = new LinkedHashMap<>();
    for (int i = 0; i < closedByCode.length(); i++) {
      LongAdder adder = closedByCode.get(i);
      if (adder != null) {
        counts.put(Integer.toString(FIRST_CODE + i), adder.sum());
      }
    }
    long other = closedOther.sum();
    if (other > 0) {
      counts.put(OTHER_CODE, other);
    }
    return Collections.unmodifiableMap(counts);
  }

  // ---- single counts, for exporters that read one figure at a time ----

  public long connectionsAccepted() {
    return connectionsAccepted.sum();
  }

  public long connectionsClosed() {
    return connectionsClosed.sum();
  }

  public long handshakes() {
    return handshakes.sum();
  }

  public long messagesReceived() {
    return messagesReceived.sum();
  }

  public long bytesReceived() {
    return bytesReceived.sum();
  }

  public long messagesSent() {
    return messagesSent.sum();
  }

  public long bytesSent() {
    return bytesSent.sum();
  }

  public long rpcs() {
    return rpcs.sum();
  }

  public long rpcErrors() {
    return rpcErrors.sum();
  }

  public long publishes() {
    return publishes.sum();
  }

  public long deliveries() {
    return deliveries.sum();
  }

  public long cutOffs(CutOff reason) {
    return (reason == CutOff.SEND_TIMEOUT ? cutOffSendTimeout : cutOffOutboundBuffer).sum();
  }

  public long rateLimitedMessages() {
    return rateLimited.sum();
  }

  public long brokerPublishes() {
    return brokerPublishes.sum();
  }

  public long brokerPublishErrors() {
    return brokerPublishErrors.sum();
  }

  /**
   * Every figure at one moment. Counts are totals since the server started; the first six are
   * what the server held at {@code at}. {@code nanoTime} is {@link System#nanoTime()} then, for
   * rates between two snapshots.
   */
  public record Snapshot(
      Instant at,
      long nanoTime,
      int connections,
      int clients,
      long subscriptions,
      int channels,
      long outboundWaitingCharacters,
      long outboundWaitingFrames,
      long connectionsAccepted,
      long connectionsClosed,
      Map<String, Long> closedByCode,
      long handshakes,
      long messagesReceived,
      long bytesReceived,
      long messagesSent,
      long bytesSent,
      long rpcs,
      long rpcErrors,
      long rpcNanos,
      long publishes,
      long deliveries,
      long cutOffOutboundBuffer,
      long cutOffSendTimeout,
      long rateLimitedMessages,
      long brokerPublishes,
      long brokerPublishErrors,
      long brokerPublishNanos) {

    /** How fast a count grew per second between {@code earlier} and this snapshot (0 if no time passed). */
    public double perSecond(Snapshot earlier, ToLongFunction<Snapshot> count) {
      long elapsed = nanoTime - earlier.nanoTime;
      if (elapsed <= 0) {
        return 0;
      }
      return (count.applyAsLong(this) - count.applyAsLong(earlier)) * 1e9 / elapsed;
    }

    /** Mean seconds per RPC answered between {@code earlier} and this one (NaN if none). */
    public double rpcMeanSeconds(Snapshot earlier) {
      long answered = rpcs - earlier.rpcs;
      return answered == 0 ? Double.NaN : (rpcNanos - earlier.rpcNanos) / 1e9 / answered;
    }
  }
}
