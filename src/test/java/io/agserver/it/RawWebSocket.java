package io.agserver.it;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A minimal WebSocket client over a plain socket, for what a well-behaved client library will not
 * do: invalid UTF-8, oversized or fragmented frames, unmasked frames, a client that stops reading.
 *
 * <p>A reader thread turns incoming frames into {@link Frame}s on a queue (unless reading is
 * {@linkplain #stopReading() stopped}); the connection's end is a {@link Frame#close} frame or an
 * {@link Frame#eof} marker. Nothing here depends on the code under test.
 */
final class RawWebSocket implements Closeable {

  static final int TEXT = 1;
  static final int BINARY = 2;
  static final int CONTINUATION = 0;
  static final int CLOSE = 8;
  static final int PING = 9;
  static final int PONG = 10;

  static final String HANDSHAKE = "{\"event\":\"#handshake\",\"cid\":1}";

  /** One frame as received; {@code code}/{@code reason} only for close frames. */
  record Frame(int opcode, byte[] payload, int code, String reason, long atNanos) {
    static Frame eof(long at) {
      return new Frame(-1, new byte[0], 1006, "", at);
    }

    boolean isEof() {
      return opcode == -1;
    }

    boolean isClose() {
      return opcode == CLOSE || opcode == -1;
    }

    boolean isText() {
      return opcode == TEXT;
    }

    boolean isPing() {
      return opcode == TEXT && payload.length == 0;
    }

    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
      if (isEof()) {
        return "EOF";
      }
      if (opcode == CLOSE) {
        return "close(" + code + ", '" + reason + "')";
      }
      String body = opcode == TEXT ? text() : payload.length + " bytes";
      return "frame(" + opcode + ", " + (body.length() > 200 ? body.substring(0, 200) + "..." : body) + ")";
    }
  }

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Socket socket;
  private final OutputStream out;
  private final DataInputStream in;
  private final BlockingQueue<Frame> frames = new LinkedBlockingQueue<>();
  private final List<Frame> seen = new ArrayList<>();
  private final AtomicLong cids = new AtomicLong(1);
  private final CountDownLatch readingAllowed = new CountDownLatch(1);
  private volatile boolean paused;
  private volatile boolean answerPings;
  private volatile boolean closed;
  private volatile boolean ended;
  private final AtomicInteger pingsAnswered = new AtomicInteger();
  final int status;
  final Map<String, String> responseHeaders;

  private RawWebSocket(Socket socket, int status, Map<String, String> responseHeaders, DataInputStream in)
      throws IOException {
    this.socket = socket;
    this.out = socket.getOutputStream();
    this.in = in;
    this.status = status;
    this.responseHeaders = responseHeaders;
  }

  static String url() {
    return System.getProperty("agserver.url", "ws://127.0.0.1:9080/socketcluster/");
  }

  /** Opens a WebSocket to the server under test, upgrade only (no #handshake). */
  static RawWebSocket open() throws IOException {
    return open("");
  }

  /** Opens a WebSocket with a query string (without the '?'). */
  static RawWebSocket open(String query) throws IOException {
    URI uri = URI.create(url());
    return open(uri.getHost(), uri.getPort(), uri.getRawPath() + (query.isEmpty() ? "" : "?" + query), 0);
  }

  /** As {@link #open(String)} with a small receive buffer, for a client that stops reading. */
  static RawWebSocket openWithReceiveBuffer(int receiveBufferSize) throws IOException {
    URI uri = URI.create(url());
    return open(uri.getHost(), uri.getPort(), uri.getRawPath(), receiveBufferSize);
  }

  /** As {@link #openWithReceiveBuffer(int)} on another path of the server under test. */
  static RawWebSocket openWithReceiveBuffer(String path, int receiveBufferSize) throws IOException {
    URI uri = URI.create(url());
    return open(uri.getHost(), uri.getPort(), path, receiveBufferSize);
  }

  /** Opens a WebSocket and completes the SocketCluster #handshake; returns the open socket. */
  static RawWebSocket connect() throws IOException {
    return connect("");
  }

  static RawWebSocket connect(String query) throws IOException {
    RawWebSocket ws = open(query);
    ws.handshake();
    return ws;
  }

  private static RawWebSocket open(String host, int port, String path, int receiveBufferSize) throws IOException {
    Socket socket = new Socket();
    if (receiveBufferSize > 0) {
      socket.setReceiveBufferSize(receiveBufferSize);
    }
    socket.setTcpNoDelay(true);
    socket.connect(new InetSocketAddress(host, port), 5000);
    socket.setSoTimeout(10_000);
    byte[] keyBytes = new byte[16];
    RANDOM.nextBytes(keyBytes);
    String key = Base64.getEncoder().encodeToString(keyBytes);
    String request = "GET " + path + " HTTP/1.1\r\n"
        + "Host: " + host + ":" + port + "\r\n"
        + "Upgrade: websocket\r\n"
        + "Connection: Upgrade\r\n"
        + "Sec-WebSocket-Key: " + key + "\r\n"
        + "Sec-WebSocket-Version: 13\r\n"
        + "\r\n";
    socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
    socket.getOutputStream().flush();
    DataInputStream in = new DataInputStream(socket.getInputStream());
    String statusLine = readLine(in);
    Map<String, String> headers = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        headers.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
      }
    }
    String[] parts = statusLine.split(" ");
    int status = parts.length > 1 ? Integer.parseInt(parts[1]) : -1;
    if (status != 101) {
      socket.close();
      throw new IOException("upgrade refused: " + statusLine);
    }
    String accept = headers.get("Sec-WebSocket-Accept");
    if (!expectedAccept(key).equals(accept)) {
      socket.close();
      throw new IOException("bad Sec-WebSocket-Accept " + accept);
    }
    socket.setSoTimeout(0);
    RawWebSocket ws = new RawWebSocket(socket, status, headers, in);
    Thread reader = new Thread(ws::readLoop, "raw-ws-reader");
    reader.setDaemon(true);
    reader.start();
    return ws;
  }

  private static String expectedAccept(String key) {
    try {
      byte[] sha1 = MessageDigest.getInstance("SHA-1")
          .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.ISO_8859_1));
      return Base64.getEncoder().encodeToString(sha1);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw new EOFException("connection closed during the upgrade");
      }
      if (c == '\n') {
        int len = line.length();
        return len > 0 && line.charAt(len - 1) == '\r' ? line.substring(0, len - 1) : line.toString();
      }
      line.append((char) c);
    }
  }

  // ---- reading ----

  private void readLoop() {
    try {
      while (true) {
        if (paused) {
          readingAllowed.await();
        }
        int b0 = in.readUnsignedByte();
        int b1 = in.readUnsignedByte();
        long length = b1 & 0x7f;
        if (length == 126) {
          length = in.readUnsignedShort();
        } else if (length == 127) {
          length = in.readLong();
        }
        if ((b1 & 0x80) != 0) {
          in.readInt(); // servers do not mask; skip a mask if one came anyway
        }
        byte[] payload = new byte[(int) length];
        in.readFully(payload);
        int opcode = b0 & 0x0f;
        long now = System.nanoTime();
        if (opcode == CLOSE) {
          int code = payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005;
          String reason = payload.length > 2
              ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8) : "";
          frames.add(new Frame(CLOSE, payload, code, reason, now));
          ended = true;
          if (!closed) {
            closed = true;
            try {
              // Echo the close, as a client should.
              writeFrame(CLOSE, true, payload.length >= 2 ? new byte[] {payload[0], payload[1]} : new byte[0], true);
            } catch (IOException ignored) {
              // The server may already be gone.
            }
          }
          return;
        }
        if (answerPings && opcode == TEXT && payload.length == 0) {
          writeFrame(TEXT, true, payload, true); // pong ''
          pingsAnswered.incrementAndGet();
          continue;
        }
        if (opcode == TEXT && payload.length > 0 && payload[0] == '[') {
          List<String> packets = batchedPackets(new String(payload, StandardCharsets.UTF_8));
          if (packets != null) {
            // A batch: the official client handles each packet of it as if it came alone.
            for (String packet : packets) {
              frames.add(new Frame(TEXT, packet.getBytes(StandardCharsets.UTF_8), 0, null, now));
            }
            continue;
          }
        }
        frames.add(new Frame(opcode, payload, 0, null, now));
      }
    } catch (IOException e) {
      frames.add(Frame.eof(System.nanoTime()));
      ended = true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      closeQuietly();
    }
  }

  /** The packets of a server batch (a JSON array of objects), or null for any other text. */
  private static List<String> batchedPackets(String text) {
    Object parsed;
    try {
      parsed = Json.parse(text);
    } catch (RuntimeException notJson) {
      return null;
    }
    if (!(parsed instanceof List<?> list) || list.isEmpty() || !list.stream().allMatch(Map.class::isInstance)) {
      return null;
    }
    return list.stream().map(Json::write).toList();
  }

  /** The next frame (pings included), or null after the timeout. */
  Frame poll(long timeoutMillis) throws InterruptedException {
    Frame frame = frames.poll(timeoutMillis, TimeUnit.MILLISECONDS);
    if (frame != null) {
      synchronized (seen) {
        seen.add(frame);
      }
    }
    return frame;
  }

  /** The next frame that matches; fails the test after the timeout with what came instead. */
  Frame await(Predicate<Frame> match, long timeoutMillis, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    List<Frame> others = new ArrayList<>();
    while (true) {
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      Frame frame = left > 0 ? poll(left) : null;
      if (frame == null) {
        throw new AssertionError("no " + what + " within " + timeoutMillis + " ms; received " + others);
      }
      if (match.test(frame)) {
        return frame;
      }
      if (frame.isClose() && !match.test(frame)) {
        throw new AssertionError("connection closed before " + what + ": " + frame + "; received " + others);
      }
      others.add(frame);
    }
  }

  /** The close frame (or EOF) that ends the connection, skipping everything before it. */
  Frame awaitClose(long timeoutMillis) throws InterruptedException {
    return await(Frame::isClose, timeoutMillis, "close");
  }

  /** The next text frame that is not a ping. */
  String awaitText(long timeoutMillis) throws InterruptedException {
    return await(f -> f.isText() && !f.isPing(), timeoutMillis, "message").text();
  }

  /** The next parsed packet that satisfies {@code match} (pings and other packets are skipped). */
  Map<?, ?> awaitPacket(Predicate<Map<?, ?>> match, long timeoutMillis, String what) throws InterruptedException {
    Frame frame = await(f -> {
      if (!f.isText() || f.isPing() || !f.text().startsWith("{")) {
        return false;
      }
      Object parsed = Json.parse(f.text());
      return parsed instanceof Map<?, ?> m && match.test(m);
    }, timeoutMillis, what);
    return (Map<?, ?>) Json.parse(frame.text());
  }

  /** The response to the call with this cid. */
  Map<?, ?> awaitResponse(long cid, long timeoutMillis) throws InterruptedException {
    return awaitPacket(m -> m.get("rid") instanceof Number n && n.longValue() == cid, timeoutMillis,
        "response with rid " + cid);
  }

  /** The next event packet {@code {"event": name, ...}}. */
  Map<?, ?> awaitEvent(String name, long timeoutMillis) throws InterruptedException {
    return awaitPacket(m -> name.equals(m.get("event")), timeoutMillis, "event " + name);
  }

  /** Sends #handshake (cid 1) and returns the response's data; fails on an error response. */
  Map<?, ?> handshake() throws IOException {
    sendText(HANDSHAKE);
    try {
      Map<?, ?> response = awaitResponse(1, 10_000);
      if (response.get("error") != null) {
        throw new AssertionError("handshake error: " + response);
      }
      return (Map<?, ?>) response.get("data");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  /** Sends an RPC (an event with a cid) and returns the cid. */
  long send(String event, Object data) throws IOException {
    long cid = cids.incrementAndGet();
    sendText("{\"event\":" + Json.write(event) + ",\"data\":" + Json.write(data) + ",\"cid\":" + cid + "}");
    return cid;
  }

  /** Calls a procedure and returns its whole response ({@code rid}, {@code data}, {@code error}). */
  Map<?, ?> invoke(String event, Object data, long timeoutMillis) throws IOException, InterruptedException {
    return awaitResponse(send(event, data), timeoutMillis);
  }

  /**
   * Calls a procedure and returns its data; fails on an error response, or when no answer came
   * within 30 s: long enough for a loaded machine, so only a server that never answers fails.
   */
  Object call(String event, Object data) throws IOException, InterruptedException {
    Map<?, ?> response = invoke(event, data, 30_000);
    if (response.get("error") != null) {
      throw new AssertionError(event + " failed: " + response);
    }
    return response.get("data");
  }

  /** Frames received so far (as returned by poll). */
  List<Frame> seen() {
    synchronized (seen) {
      return List.copyOf(seen);
    }
  }

  /** Whether the connection's end (a close frame or EOF) has been read, polled or not. */
  boolean ended() {
    return ended;
  }

  /** How many pings the reader has answered since {@link #answerPings()}. */
  int pingsAnswered() {
    return pingsAnswered.get();
  }

  /** From now on the reader answers each ping '' with a pong '' (and does not queue the ping). */
  RawWebSocket answerPings() {
    answerPings = true;
    return this;
  }

  /** Stops taking bytes off the socket: the server's writes back up (TCP flow control). */
  void stopReading() {
    paused = true;
  }

  void resumeReading() {
    paused = false;
    readingAllowed.countDown();
  }

  // ---- writing ----

  void sendText(String text) throws IOException {
    writeFrame(TEXT, true, text.getBytes(StandardCharsets.UTF_8), true);
  }

  void sendText(byte[] utf8OrNot) throws IOException {
    writeFrame(TEXT, true, utf8OrNot, true);
  }

  /**
   * Sends a frame the server will refuse on reading its header (over maxPayload): the server may
   * close the connection while this side is still writing the payload, which is not a failure.
   */
  void sendRefused(int opcode, byte[] payload) {
    try {
      writeFrame(opcode, true, payload, true);
    } catch (IOException closedWhileWriting) {
      // The close frame, if it came, is on the frames queue.
    }
  }

  void sendBinary(byte[] data) throws IOException {
    writeFrame(BINARY, true, data, true);
  }

  /** Sends a close frame with a code and reason. */
  void sendClose(int code, String reason) throws IOException {
    byte[] r = reason.getBytes(StandardCharsets.UTF_8);
    byte[] payload = new byte[2 + r.length];
    payload[0] = (byte) (code >> 8);
    payload[1] = (byte) code;
    System.arraycopy(r, 0, payload, 2, r.length);
    closed = true;
    writeFrame(CLOSE, true, payload, true);
  }

  /** Writes one frame; {@code mask} false sends an unmasked frame (a protocol error from a client). */
  synchronized void writeFrame(int opcode, boolean fin, byte[] payload, boolean mask) throws IOException {
    ByteArrayOutputStream header = new ByteArrayOutputStream(14);
    header.write((fin ? 0x80 : 0) | opcode);
    int maskBit = mask ? 0x80 : 0;
    int n = payload.length;
    if (n < 126) {
      header.write(maskBit | n);
    } else if (n < 65536) {
      header.write(maskBit | 126);
      header.write(n >> 8);
      header.write(n);
    } else {
      header.write(maskBit | 127);
      for (int shift = 56; shift >= 0; shift -= 8) {
        header.write((int) ((long) n >> shift));
      }
    }
    byte[] body = payload;
    if (mask) {
      byte[] key = new byte[4];
      RANDOM.nextBytes(key);
      header.write(key, 0, 4);
      body = new byte[n];
      for (int i = 0; i < n; i++) {
        body[i] = (byte) (payload[i] ^ key[i & 3]);
      }
    }
    out.write(header.toByteArray());
    out.write(body);
    out.flush();
  }

  boolean isClosed() {
    return socket.isClosed();
  }

  /** This side's TCP port: the server's view of the peer's port. */
  int localPort() {
    return socket.getLocalPort();
  }

  /** Whether {@link #unreadByServer} can see the kernel's TCP queues here (Linux's /proc). */
  static boolean tcpQueuesVisible() {
    return Files.isReadable(Path.of("/proc/net/tcp"));
  }

  /**
   * Bytes this side wrote that the server's process has not read yet: what waits in this socket's
   * send queue (not yet acknowledged) plus what waits unread in the server's receive queue, from
   * the kernel's tables of TCP sockets (/proc/net/tcp and tcp6; the server runs on this host).
   * Zero once the server has read everything sent so far.
   */
  long unreadByServer() throws IOException {
    int here = socket.getLocalPort();
    int there = socket.getPort();
    long sendQueue = -1;
    long serverReceiveQueue = -1;
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      Path path = Path.of(table);
      if (!Files.isReadable(path)) {
        continue;
      }
      // "sl local_address rem_address st tx_queue:rx_queue ...", addresses as HEXIP:HEXPORT.
      for (String line : Files.readAllLines(path)) {
        String[] fields = line.trim().split("\\s+");
        if (fields.length < 5 || !fields[0].endsWith(":") || !fields[4].contains(":")) {
          continue;
        }
        int local = port(fields[1]);
        int remote = port(fields[2]);
        String[] queues = fields[4].split(":");
        if (local == here && remote == there) {
          sendQueue = Long.parseLong(queues[0], 16);
        } else if (local == there && remote == here) {
          serverReceiveQueue = Long.parseLong(queues[1], 16);
        }
      }
    }
    if (sendQueue < 0 || serverReceiveQueue < 0) {
      throw new IllegalStateException("no TCP socket " + here + " <-> " + there + " in /proc/net/tcp"
          + " (client side found: " + (sendQueue >= 0) + ", server side found: "
          + (serverReceiveQueue >= 0) + "); is the server on another host?");
    }
    return sendQueue + serverReceiveQueue;
  }

  private static int port(String address) {
    return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1), 16);
  }

  private void closeQuietly() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // nothing to do
    }
  }

  /** Drops the TCP connection (no closing handshake). */
  @Override
  public void close() {
    resumeReading();
    closeQuietly();
  }
}
