package io.agserver.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.agserver.config.WarmUpOptions;

/** Where the warm-up connects: options first, then what the runtime states, else nothing. */
class WarmUpTargetTest {

  private static Optional<URI> resolve(WarmUpOptions options, Map<String, String> config, String contextPath) {
    return WarmUpTarget.resolve(options, key -> Optional.ofNullable(config.get(key)), contextPath, "/socketcluster/");
  }

  private static final WarmUpOptions DEFAULTS = new WarmUpOptions(5000, Optional.empty(), Optional.empty());

  @Test
  void libertysVariablesWithAWildcardHostGoToTheLoopbackAddress() {
    assertEquals(Optional.of(URI.create("ws://127.0.0.1:9080/socketcluster/")),
        resolve(DEFAULTS, Map.of("default.http.port", "9080", "default.http.host", "*"), ""));
  }

  @Test
  void aNamedHostAndAContextRootAreKept() {
    assertEquals(Optional.of(URI.create("ws://10.1.2.3:9081/chat/socketcluster/")),
        resolve(DEFAULTS, Map.of("default.http.port", "9081", "default.http.host", "10.1.2.3"), "/chat"));
  }

  @Test
  void payarasPropertiesServeWhenLibertysAreNotThere() {
    assertEquals(Optional.of(URI.create("ws://127.0.0.1:8080/socketcluster/")),
        resolve(DEFAULTS, Map.of("payara.instance.http.port", "8080", "payara.instance.http.address", "0.0.0.0"), "/"));
    assertEquals(Optional.of(URI.create("ws://[::1]:8080/socketcluster/")),
        resolve(DEFAULTS, Map.of("payara.instance.http.port", "8080", "payara.instance.http.address", "::1"), ""));
  }

  @Test
  void theOptionsWin() {
    WarmUpOptions options = new WarmUpOptions(5000, Optional.of(7000), Optional.of("localhost"));
    assertEquals(Optional.of(URI.create("ws://localhost:7000/socketcluster/")),
        resolve(options, Map.of("default.http.port", "9080", "default.http.host", "10.1.2.3"), ""));
  }

  @Test
  void noPortKnownIsNoTarget() {
    assertEquals(Optional.empty(), resolve(DEFAULTS, Map.of("default.http.host", "127.0.0.1"), ""));
    assertEquals(Optional.empty(), resolve(DEFAULTS, Map.of("default.http.port", "${port}"), ""));
  }
}
