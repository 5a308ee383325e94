package io.agserver.transport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * Real loopback connections for the window tests: the server's end non-blocking, as a
 * container's, with small buffers, so that a client that does not read fills them at once.
 */
final class LoopbackConnections implements AutoCloseable {

  private final List<SocketChannel> opened = new ArrayList<>();
  private ServerSocketChannel listener;

  /** A connection: [0] the server's end, [1] the client's; filled: its window and send buffer full. */
  SocketChannel[] open(boolean filled) throws IOException {
    if (listener == null) {
      listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }
    SocketChannel client = SocketChannel.open();
    client.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
    client.connect(listener.getLocalAddress());
    SocketChannel server = listener.accept();
    server.setOption(StandardSocketOptions.SO_SNDBUF, 4096);
    server.configureBlocking(false);
    opened.add(client);
    opened.add(server);
    if (filled) {
      fill(server);
    }
    return new SocketChannel[] {server, client};
  }

  /** Writes to a server's end until the client's window and the send buffer are full. */
  static void fill(SocketChannel server) throws IOException {
    ByteBuffer chunk = ByteBuffer.allocate(8192);
    for (int zeros = 0; zeros < 3; ) {
      if (server.write(chunk.clear()) == 0) {
        zeros++;
      }
    }
  }

  /** Reads whatever arrives on a client's end, on a thread of its own, until it closes. */
  static void drain(SocketChannel client) {
    Thread reader = new Thread(() -> {
      ByteBuffer sink = ByteBuffer.allocate(1 << 16);
      try {
        while (client.read(sink.clear()) >= 0) {
          // reads on
        }
      } catch (IOException e) {
        // closed at the end of the test
      }
    });
    reader.setDaemon(true);
    reader.start();
  }

  @Override
  public void close() throws IOException {
    for (SocketChannel channel : opened) {
      channel.close();
    }
    if (listener != null) {
      listener.close();
    }
  }
}
