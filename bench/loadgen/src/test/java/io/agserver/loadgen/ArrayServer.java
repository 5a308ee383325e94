package io.agserver.loadgen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A small SocketCluster server for the load generator's tests that sends what the official
 * client must handle: several packets in one frame as a JSON array (every reply and delivery of a
 * read burst goes out as one array per connection), and the empty-frame ping. With a peer, it is
 * one of two servers of a cluster: every publish it takes in is delivered to the peer's
 * subscribers too.
 */
final class ArrayServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel server;
  private final Map<String, Set<Conn>> channels = new HashMap<>();
  private final Set<Conn> all = new LinkedHashSet<>();
  private final Set<Conn> dirty = new LinkedHashSet<>();
  private final ArrayServer peer;
  int pongs;
  int arraysSent;
  int publishesIn;
  /** Faults for the soak's tests: every Nth delivery dropped, or sent twice (0: never). */
  volatile int dropEvery;
  volatile int duplicateEvery;
  private long deliveries;

  private final class Conn extends SimpleChannelInboundHandler<TextWebSocketFrame> {
    ChannelHandlerContext ctx;
    final List<JsonNode> out = new ArrayList<>();

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      this.ctx = ctx;
      all.add(this);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      all.remove(this);
      channels.values().forEach(s -> s.remove(this));
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame frame) throws Exception {
      String text = frame.text();
      if (text.isEmpty()) {
        pongs++;
        return;
      }
      JsonNode p = JSON.readTree(text);
      String event = p.path("event").asText();
      long cid = p.path("cid").asLong(-1);
      ObjectNode reply = JSON.createObjectNode().put("rid", cid);
      switch (event) {
        case "#handshake" -> reply.set("data", JSON.createObjectNode()
            .put("id", "t" + System.identityHashCode(this)).put("pingTimeout", 20000).put("isAuthenticated", false));
        case "echo" -> reply.set("data", p.get("data"));
        case "#subscribe" -> channels.computeIfAbsent(p.path("data").path("channel").asText(), k -> new LinkedHashSet<>()).add(this);
        case "#unsubscribe" -> channels.getOrDefault(p.path("data").asText(), new LinkedHashSet<>()).remove(this);
        case "#authenticate" -> reply.set("data", JSON.createObjectNode().put("isAuthenticated", true).putNull("authError"));
        case "#removeAuthToken" -> { }
        case "#publish" -> {
          publishesIn++;
          ObjectNode delivery = JSON.createObjectNode().put("event", "#publish");
          delivery.set("data", p.get("data"));
          String channel = p.path("data").path("channel").asText();
          deliver(channel, delivery);
          if (peer != null) {
            peer.group.next().execute(() -> peer.deliver(channel, delivery));
          }
        }
        default -> reply.set("error", JSON.createObjectNode().put("name", "Unknown").put("message", event));
      }
      if (cid >= 0) {
        queue(reply);
      }
    }

    void queue(JsonNode packet) {
      out.add(packet);
      dirty.add(this);
    }
  }

  private void deliver(String channel, JsonNode delivery) {
    for (Conn c : channels.getOrDefault(channel, Set.of())) {
      deliveries++;
      if (dropEvery > 0 && deliveries % dropEvery == 0) {
        continue;
      }
      c.queue(delivery);
      if (duplicateEvery > 0 && deliveries % duplicateEvery == 0) {
        c.queue(delivery);
      }
    }
  }

  /** Every few milliseconds, what each connection has waiting goes out as one frame. */
  private void flushAll() {
    for (Conn c : dirty) {
      if (c.out.size() == 1) {
        c.ctx.write(new TextWebSocketFrame(c.out.get(0).toString()));
      } else {
        arraysSent++;
        c.ctx.write(new TextWebSocketFrame(JSON.valueToTree(c.out).toString()));
      }
      c.out.clear();
      c.ctx.flush();
    }
    dirty.clear();
  }

  ArrayServer(long pingEveryMs) throws InterruptedException {
    this(pingEveryMs, null);
  }

  ArrayServer(long pingEveryMs, ArrayServer peer) throws InterruptedException {
    this.peer = peer;
    server = new ServerBootstrap()
        .group(group)
        .channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                new WebSocketServerProtocolHandler("/socketcluster/"), new Conn());
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    group.next().scheduleAtFixedRate(() -> {
      for (Conn c : all) {
        c.ctx.writeAndFlush(new TextWebSocketFrame(""));
      }
    }, pingEveryMs, pingEveryMs, TimeUnit.MILLISECONDS);
    group.next().scheduleAtFixedRate(this::flushAll, 10, 10, TimeUnit.MILLISECONDS);
  }

  String url() {
    return "ws://127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort() + "/socketcluster/";
  }

  int arrays() throws Exception {
    return group.next().submit(() -> arraysSent).get();
  }

  int publishesIn() throws Exception {
    return group.next().submit(() -> publishesIn).get();
  }

  int pongs() throws Exception {
    return group.next().submit(() -> pongs).get();
  }

  @Override
  public void close() {
    server.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
