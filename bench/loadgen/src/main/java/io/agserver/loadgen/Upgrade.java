package io.agserver.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The WebSocket opening handshake, written and checked by hand (the request is a few fixed lines;
 * the answer must be {@code 101} with the right {@code Sec-WebSocket-Accept}). On success it puts
 * Netty's RFC 6455 frame codecs in its place: the encoder masks every frame, as a client must,
 * and the aggregator joins fragmented messages.
 */
final class Upgrade extends ChannelInboundHandlerAdapter {
  private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  private static final int MAX_RESPONSE = 16 * 1024;
  static final int MAX_MESSAGE = 64 * 1024 * 1024;
  private static final ThreadLocal<MessageDigest> SHA1 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  });
  private static final WebSocketDecoderConfig DECODER = WebSocketDecoderConfig.newBuilder()
      .expectMaskedFrames(false)
      .allowMaskMismatch(false)
      .allowExtensions(false)
      .maxFramePayloadLength(MAX_MESSAGE)
      .closeOnProtocolViolation(true)
      .withUTF8Validator(false)
      .build();

  private final Client client;
  private String expectedAccept;
  private ByteBuf response;

  Upgrade(Client client) {
    this.client = client;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    if (!client.tcpConnected()) {
      ctx.close();
      return;
    }
    byte[] nonce = new byte[16];
    ThreadLocalRandom.current().nextBytes(nonce);
    String key = Base64.getEncoder().encodeToString(nonce);
    MessageDigest sha1 = SHA1.get();
    sha1.reset();
    expectedAccept = Base64.getEncoder().encodeToString(
        sha1.digest((key + GUID).getBytes(StandardCharsets.US_ASCII)));
    String request = "GET " + client.target.path() + " HTTP/1.1\r\n"
        + "Host: " + client.target.hostHeader() + "\r\n"
        + "Upgrade: websocket\r\n"
        + "Connection: Upgrade\r\n"
        + "Sec-WebSocket-Key: " + key + "\r\n"
        + "Sec-WebSocket-Version: 13\r\n"
        + "\r\n";
    ctx.writeAndFlush(ByteBufUtil.writeAscii(ctx.alloc(), request));
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf in = (ByteBuf) msg;
    if (response == null) {
      response = ctx.alloc().heapBuffer(512);
    }
    response.writeBytes(in);
    in.release();
    int headEnd = ByteBufUtil.indexOf(HEAD_END, response);
    if (headEnd < 0) {
      if (response.readableBytes() > MAX_RESPONSE) {
        fail(ctx, "upgrade: response head too long");
      }
      return;
    }
    String head = response.toString(0, headEnd, StandardCharsets.ISO_8859_1);
    response.readerIndex(headEnd + 4);
    String problem = check(head);
    if (problem != null) {
      fail(ctx, problem);
      return;
    }
    ByteBuf rest = response.readableBytes() > 0 ? response.retainedSlice() : null;
    response.release();
    response = null;
    ctx.pipeline().addAfter(ctx.name(), "ws-decoder", new WebSocket13FrameDecoder(DECODER));
    ctx.pipeline().addAfter("ws-decoder", "ws-aggregator", new WebSocketFrameAggregator(MAX_MESSAGE));
    ctx.pipeline().addAfter("ws-aggregator", "ws-encoder", new WebSocket13FrameEncoder(true));
    ctx.pipeline().remove(this);
    client.upgraded();
    if (rest != null) {
      ctx.pipeline().fireChannelRead(rest);
      ctx.pipeline().fireChannelReadComplete();
    }
  }

  private static final ByteBuf HEAD_END = io.netty.buffer.Unpooled.unreleasableBuffer(
      io.netty.buffer.Unpooled.copiedBuffer("\r\n\r\n", StandardCharsets.US_ASCII));

  /** Null when the head is a valid 101 answer to our key, or what is wrong with it. */
  private String check(String head) {
    int lineEnd = head.indexOf("\r\n");
    String status = lineEnd < 0 ? head : head.substring(0, lineEnd);
    String[] parts = status.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/1.") || !"101".equals(parts[1])) {
      return "upgrade: status " + (parts.length > 1 ? parts[1] : status);
    }
    String accept = null;
    boolean upgradeWs = false;
    for (String line : head.substring(lineEnd + 2).split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon <= 0) {
        continue;
      }
      String name = line.substring(0, colon).trim();
      String value = line.substring(colon + 1).trim();
      if (name.equalsIgnoreCase("Sec-WebSocket-Accept")) {
        accept = value;
      } else if (name.equalsIgnoreCase("Upgrade")) {
        upgradeWs = value.equalsIgnoreCase("websocket");
      }
    }
    if (!upgradeWs) {
      return "upgrade: no Upgrade: websocket";
    }
    if (!expectedAccept.equals(accept)) {
      return "upgrade: wrong Sec-WebSocket-Accept";
    }
    return null;
  }

  private void fail(ChannelHandlerContext ctx, String why) {
    if (response != null) {
      response.release();
      response = null;
    }
    client.fail(why);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (response != null) {
      response.release();
      response = null;
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    client.fail("upgrade: " + cause.getClass().getSimpleName());
  }
}
