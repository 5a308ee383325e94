package io.agserver.loadgen;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * The sockets: one event loop (the load generator has one CPU), epoll when the native transport
 * loads and NIO otherwise, connections only to a loopback address, optionally from several
 * loopback sources (127.0.0.1 ... 127.0.0.N) so that more connections fit than one source
 * address has ephemeral ports.
 */
final class Net implements AutoCloseable {
  /** Where a connection goes: the TCP address, and the upgrade request's Host header and path. */
  record Target(URI url, InetSocketAddress remote, String hostHeader, String path) {}

  final URI url;
  /** The server of the scenario's connections, unless a connection names another target. */
  final Target target;
  final boolean epoll;
  final MultiThreadIoEventLoopGroup group;
  final EventLoop loop;
  private final InetAddress[] sources;
  private final Bootstrap base;
  private int nextSource;

  Net(String url, int sourceAddresses, boolean allowNio) throws UnknownHostException {
    this.target = target(url);
    this.url = target.url();
    InetAddress host = target.remote().getAddress();
    epoll = Epoll.isAvailable();
    if (!epoll && !allowNio) {
      throw new IllegalStateException("epoll unavailable", Epoll.unavailabilityCause());
    }
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    // One thread: every counter of a scenario lives on it, and the process has one CPU.
    group = new MultiThreadIoEventLoopGroup(1, io);
    loop = group.next();
    if (sourceAddresses < 1 || sourceAddresses > 254) {
      throw new IllegalArgumentException("--src-addrs must be 1..254");
    }
    if (sourceAddresses > 1 && !(host.getAddress().length == 4 && host.getAddress()[0] == 127)) {
      throw new IllegalArgumentException("--src-addrs needs an IPv4 loopback target");
    }
    sources = new InetAddress[sourceAddresses];
    for (int i = 0; i < sourceAddresses; i++) {
      sources[i] = InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) (i + 1)});
    }
    base = new Bootstrap()
        .group(group)
        .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000);
    if (epoll && sourceAddresses > 1) {
      // bind() picks no port; connect() then picks one per (source, destination) pair.
      base.option(EpollChannelOption.IP_BIND_ADDRESS_NO_PORT, true);
    }
  }

  /** A ws:// URL on a loopback address as a target. */
  static Target target(String url) throws UnknownHostException {
    URI u = URI.create(url);
    if (!"ws".equals(u.getScheme())) {
      throw new IllegalArgumentException("only ws:// URLs: " + url);
    }
    InetAddress host = InetAddress.getByName(u.getHost());
    if (!host.isLoopbackAddress()) {
      throw new IllegalArgumentException("only loopback targets are allowed: " + url);
    }
    int port = u.getPort() < 0 ? 80 : u.getPort();
    String path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
    return new Target(u, new InetSocketAddress(host, port), u.getHost() + ":" + port, path);
  }

  String transport() {
    return epoll ? "epoll" : "nio";
  }

  /** Starts the TCP connection of a client (to its target); the client's handlers do the rest. */
  ChannelFuture connect(Client client) {
    InetSocketAddress remote = client.target.remote();
    Bootstrap b = base.clone();
    if (client.receiveBuffer > 0) {
      b.option(io.netty.channel.ChannelOption.SO_RCVBUF, client.receiveBuffer);
    }
    b.handler(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        ch.pipeline().addLast("upgrade", new Upgrade(client));
        ch.pipeline().addLast("client", client);
      }
    });
    if (sources.length > 1) {
      InetAddress src = sources[nextSource];
      nextSource = (nextSource + 1) % sources.length;
      return b.connect(remote, new InetSocketAddress(src, 0));
    }
    return b.connect(remote);
  }

  /** Runs on the event loop and waits for the answer: how the controller reads counters. */
  <T> T call(Callable<T> task) {
    try {
      return loop.submit(task).get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("event loop task failed", e);
    }
  }

  void run(Runnable task) {
    call(() -> {
      task.run();
      return null;
    });
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
