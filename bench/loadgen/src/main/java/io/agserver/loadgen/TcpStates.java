package io.agserver.loadgen;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The state of the server's end of each connection, from the kernel's table of TCP sockets
 * ({@code /proc/net/tcp}: the load generator only talks to loopback addresses, so both ends are
 * in it). A client that does not read never sees the server close (the FIN waits behind the
 * unread data), but the server's end leaves ESTABLISHED as soon as the server shuts its output or
 * closes: that is when the client was cut off, seen without reading and without writing to it
 * (data written to a closed socket makes the kernel answer with a reset, and the reset would
 * discard what the client could still read).
 */
final class TcpStates {
  private TcpStates() {}

  static final int ESTABLISHED = 1;

  /**
   * The states of the sockets whose local port is {@code serverPort}, by their remote address, from
   * {@code /proc/net/tcp} or {@code /proc/net/tcp6} (a JVM's server socket is an IPv6 one, its IPv4
   * peers mapped: {@code ::ffff:127.0.0.1}); other IPv6 peers are left out.
   */
  static Map<String, Integer> serverSides(String table, int serverPort) {
    Map<String, Integer> out = new HashMap<>();
    String port = String.format(":%04X", serverPort);
    for (String line : table.split("\n")) {
      String[] f = line.trim().split("\\s+");
      // sl local_address rem_address st ...
      if (f.length < 4 || !f[1].endsWith(port)) {
        continue;
      }
      String remote = f[2];
      if (remote.length() == 37 && remote.startsWith("0000000000000000FFFF0000")) {
        remote = remote.substring(24);
      }
      if (remote.length() == 13) {
        out.put(key(remote), Integer.parseInt(f[3], 16));
      }
    }
    return out;
  }

  /** "0100007F:A1B2" (the kernel's hex, IPv4 in host byte order) as "127.0.0.1:41394". */
  static String key(String hex) {
    int colon = hex.indexOf(':');
    long v = Long.parseLong(hex.substring(0, colon), 16);
    int[] b = new int[4];
    for (int i = 0; i < 4; i++) {
      b[i] = (int) (v >>> (8 * i)) & 0xff;
    }
    String ip = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN
        ? b[0] + "." + b[1] + "." + b[2] + "." + b[3]
        : b[3] + "." + b[2] + "." + b[1] + "." + b[0];
    return ip + ":" + Integer.parseInt(hex.substring(colon + 1), 16);
  }

  /** An IPv4 socket address (or an IPv4-mapped IPv6 one) as "127.0.0.1:41394". */
  static String key(InetSocketAddress a) {
    byte[] b = a.getAddress().getAddress();
    int o = b.length - 4;
    return (b[o] & 0xff) + "." + (b[o + 1] & 0xff) + "." + (b[o + 2] & 0xff) + "." + (b[o + 3] & 0xff) + ":" + a.getPort();
  }

  static Map<String, Integer> read(int serverPort) throws IOException {
    Map<String, Integer> out = serverSides(Files.readString(Path.of("/proc/net/tcp")), serverPort);
    Path v6 = Path.of("/proc/net/tcp6");
    if (Files.exists(v6)) {
      out.putAll(serverSides(Files.readString(v6), serverPort));
    }
    return out;
  }

  /** The kernel's memory for TCP buffers, all sockets, in bytes ({@code /proc/net/sockstat}); -1. */
  static long kernelBufferBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/net/sockstat"))) {
        if (line.startsWith("TCP:")) {
          String[] f = line.trim().split("\\s+");
          for (int i = 1; i + 1 < f.length; i++) {
            if (f[i].equals("mem")) {
              return Long.parseLong(f[i + 1]) * 4096;
            }
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return -1;
  }
}
