package io.agserver.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;

/**
 * One WebSocket upgrade request with chosen headers, and the server's answer as it came (status,
 * headers, body of a refusal): for what a client library hides, such as the Origin it sends and
 * the extensions the server agrees to. The connection is closed after the answer.
 */
record Upgrade(int status, Map<String, String> headers, String body) {

  private static final SecureRandom RANDOM = new SecureRandom();

  /** Sends an upgrade for {@code path} of the server under test with these extra headers. */
  static Upgrade request(String path, Map<String, String> extraHeaders) throws IOException {
    URI uri = URI.create(RawWebSocket.url());
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 5000);
      socket.setSoTimeout(10_000);
      byte[] key = new byte[16];
      RANDOM.nextBytes(key);
      StringBuilder request = new StringBuilder()
          .append("GET ").append(path).append(" HTTP/1.1\r\n")
          .append("Host: ").append(uri.getHost()).append(':').append(uri.getPort()).append("\r\n")
          .append("Upgrade: websocket\r\n")
          .append("Connection: Upgrade\r\n")
          .append("Sec-WebSocket-Key: ").append(Base64.getEncoder().encodeToString(key)).append("\r\n")
          .append("Sec-WebSocket-Version: 13\r\n");
      extraHeaders.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
      request.append("\r\n");
      socket.getOutputStream().write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();

      InputStream in = socket.getInputStream();
      String[] status = line(in).split(" ", 3);
      Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
      for (String line = line(in); !line.isEmpty(); line = line(in)) {
        int colon = line.indexOf(':');
        if (colon > 0) {
          headers.merge(line.substring(0, colon).trim(), line.substring(colon + 1).trim(), (a, b) -> a + ", " + b);
        }
      }
      int code = Integer.parseInt(status[1]);
      String body = "";
      if (code != 101) {
        body = body(in, headers);
      }
      return new Upgrade(code, headers, body);
    }
  }

  private static String body(InputStream in, Map<String, String> headers) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    String length = headers.get("Content-Length");
    if (length != null) {
      out.write(in.readNBytes(Integer.parseInt(length)));
    } else if ("chunked".equalsIgnoreCase(headers.get("Transfer-Encoding"))) {
      for (int size = Integer.parseInt(line(in).trim(), 16); size > 0; size = Integer.parseInt(line(in).trim(), 16)) {
        out.write(in.readNBytes(size));
        line(in);
      }
    } else {
      out.write(in.readAllBytes());
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) {
        throw new IOException("connection closed mid-line: " + line);
      }
      if (c != '\r') {
        line.append((char) c);
      }
    }
    return line.toString();
  }
}
