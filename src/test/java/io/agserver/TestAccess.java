package io.agserver;

import io.agserver.core.Connection;
import io.agserver.core.Connections;
import io.agserver.transport.AGTransport;

/** For tests in other packages: the server's and the socket's transport side, as a transport sees it. */
public final class TestAccess {

  private TestAccess() {}

  public static Connections connections(AGServer server) {
    return server.connections();
  }

  public static io.agserver.core.ServerStatus status(AGServer server) {
    return server.status();
  }

  public static AGServerSocket accept(AGServer server, AGTransport transport, AGUpgradeRequest request) {
    return server.accept(transport, request);
  }

  public static Connection connection(AGServerSocket socket) {
    return socket.connection();
  }

  public static void receive(AGServerSocket socket, Object message) {
    socket.receive(message);
  }

  /** The timer's round, run now on the caller's thread. */
  public static void sweep(AGServer server) {
    server.sweep();
  }

  public static io.agserver.ops.ConnectionLimits connectionLimits(AGServer server) {
    return server.connectionLimits();
  }
}
