package io.agserver.bench;

import java.net.URI;
import java.util.Map;
import java.util.Optional;

import io.agserver.AGServer;
import io.agserver.AGServerSocket;
import io.agserver.AGUpgradeRequest;
import io.agserver.BenchAccess;
import io.agserver.core.Connection;
import io.agserver.config.AGServerOptions;

/** Servers and connected sockets without a container, as the socket-level tests build them. */
final class BenchServers {

  /** About 100 bytes of JSON: the data of the RPCs and publishes measured here. */
  static final String DATA = "{\"id\":123456,\"user\":\"alice\",\"tags\":[\"red\",\"green\",\"blue\"],"
      + "\"active\":true,\"score\":98.5,\"note\":\"hello\"}";

  static final String CHANNEL = "bench";

  private BenchServers() {}

  /**
   * A server with the default options except that pings are off: no socket is cut for a missing
   * pong in the middle of a measurement, and no ping goes out between two operations.
   */
  static AGServer server() {
    Map<String, String> config = Map.of("pingTimeoutDisabled", "true");
    AGServerOptions options = AGServerOptions.from(key -> Optional.ofNullable(
        config.get(key.substring(AGServerOptions.PREFIX.length()))));
    return new AGServer(options, null, null, null);
  }

  /** A socket that completed its handshake (state open) on {@code transport}, as its transport drives it. */
  static Connection connect(AGServer server, BenchTransport transport) {
    Connection connection = BenchAccess.connections(server).accept(transport, new AGUpgradeRequest(
        URI.create("ws://localhost/socketcluster/"), Map.of(), Map.of(), "127.0.0.1", 5555, false));
    connection.receive("{\"event\":\"#handshake\",\"cid\":1}");
    check(AGServerSocket.OPEN.equals(connection.socket().state()),
        "the handshake did not open the socket: " + transport.lastText);
    return connection;
  }

  /** Subscribes the socket to {@code channel} as its client would, and checks the acknowledgement. */
  static void subscribe(Connection connection, BenchTransport transport, String channel) {
    AGServerSocket socket = connection.socket();
    connection.receive("{\"event\":\"#subscribe\",\"cid\":2,\"data\":{\"channel\":\"" + channel + "\"}}");
    check("{\"rid\":2}".equals(transport.lastText) && socket.isSubscribed(channel),
        "the subscription was not acknowledged: " + transport.lastText);
  }

  static void check(boolean condition, String message) {
    if (!condition) {
      throw new IllegalStateException(message);
    }
  }
}
