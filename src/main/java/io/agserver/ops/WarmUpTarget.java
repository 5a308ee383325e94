package io.agserver.ops;

import java.net.URI;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

import io.agserver.config.WarmUpOptions;

/**
 * Where the warm-up connects: the server's own WebSocket URL. The port is the option's, else the
 * one the runtime states in MicroProfile Config (Open Liberty's {@code default.http.port}
 * variable, which agserver's server.xml listens on; Payara's {@code payara.instance.http.port});
 * the host the option's, else the address the runtime listens on when it names one, else the
 * loopback address. The path is the application's context root plus {@code socketcluster.path}.
 */
final class WarmUpTarget {

  /** Keys that hold the HTTP port, the first one set wins. */
  static final List<String> PORT_KEYS = List.of("default.http.port", "payara.instance.http.port");
  /** Keys that hold the address listened on. */
  static final List<String> HOST_KEYS = List.of("default.http.host", "payara.instance.http.address");

  private WarmUpTarget() {}

  /** The URL, or empty when no port is known. {@code config} maps a key to its value, if set. */
  static Optional<URI> resolve(WarmUpOptions options, Function<String, Optional<String>> config,
      String contextPath, String path) {
    Optional<Integer> port = options.port().or(() -> firstPort(config));
    if (port.isEmpty()) {
      return Optional.empty();
    }
    String host = options.host().orElseGet(() -> listenedOn(config));
    if (host.contains(":") && !host.startsWith("[")) {
      host = "[" + host + "]";
    }
    String context = contextPath == null || contextPath.equals("/") ? "" : contextPath;
    return Optional.of(URI.create("ws://" + host + ":" + port.get() + context + path));
  }

  private static Optional<Integer> firstPort(Function<String, Optional<String>> config) {
    for (String key : PORT_KEYS) {
      Optional<String> value = config.apply(key);
      if (value.isPresent()) {
        try {
          int port = Integer.parseInt(value.get().trim());
          if (port > 0 && port <= 65535) {
            return Optional.of(port);
          }
        } catch (NumberFormatException e) {
          // Not a port number: try the next key.
        }
      }
    }
    return Optional.empty();
  }

  /** The address the runtime names, unless it listens on every interface: then the loopback one. */
  private static String listenedOn(Function<String, Optional<String>> config) {
    for (String key : HOST_KEYS) {
      Optional<String> value = config.apply(key).map(String::trim);
      if (value.isPresent() && !isWildcard(value.get())) {
        return value.get();
      }
    }
    return "127.0.0.1";
  }

  private static boolean isWildcard(String host) {
    return host.isEmpty() || host.equals("*") || host.equals("0.0.0.0") || host.equals("::")
        || host.equals("[::]") || host.equals("0:0:0:0:0:0:0:0");
  }
}
