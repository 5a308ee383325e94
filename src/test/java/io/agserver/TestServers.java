package io.agserver;

import java.net.URI;
import java.util.Map;
import java.util.Optional;

import io.agserver.config.AGServerOptions;

/** What the socket-level tests share: options by short key, and a plain upgrade request. */
final class TestServers {

  private TestServers() {}

  /** Options from keys without their {@code socketcluster.} prefix ("pingInterval" ...). */
  static AGServerOptions options(Map<String, String> shortKeys) {
    return AGServerOptions.from(key -> Optional.ofNullable(
        shortKeys.get(key.substring(AGServerOptions.PREFIX.length()))));
  }

  static AGUpgradeRequest request() {
    return new AGUpgradeRequest(URI.create("ws://localhost/socketcluster/"), Map.of(), Map.of(),
        "127.0.0.1", 5555, false);
  }
}
