package io.agserver;

import io.agserver.core.Connections;

/** The benchmarks drive sockets as a transport does: through the server's {@link Connections}. */
public final class BenchAccess {

  private BenchAccess() {}

  public static Connections connections(AGServer server) {
    return server.connections();
  }
}
