package io.agserver.conformance;

import java.util.Map;
import java.util.Set;

import org.eclipse.microprofile.config.spi.ConfigSource;

/** The server options APP.md fixes for the conformance application. */
public final class ConformanceConfigSource implements ConfigSource {

  private static final Map<String, String> VALUES = Map.ofEntries(
      Map.entry("socketcluster.path", "/socketcluster/"),
      Map.entry("socketcluster.authKey", "conformance-secret"),
      Map.entry("socketcluster.authAlgorithm", "HS256"),
      Map.entry("socketcluster.authDefaultExpiry", "3600"),
      Map.entry("socketcluster.pingInterval", "1000"),
      Map.entry("socketcluster.pingTimeout", "3000"),
      Map.entry("socketcluster.handshakeTimeout", "2000"),
      Map.entry("socketcluster.ackTimeout", "2000"),
      Map.entry("socketcluster.socketChannelLimit", "50"),
      Map.entry("socketcluster.allowClientPublish", "true"),
      Map.entry("socketcluster.strictHandshake", "true"),
      Map.entry("socketcluster.origins", "*:*"),
      Map.entry("socketcluster.maxPayload", "1048576"),
      // The build's test servers start without a warm-up (the test of the warm-up turns it on
      // with SOCKETCLUSTER_WARMUP, which ranks above this source).
      Map.entry("socketcluster.warmUp", "0"));

  @Override
  public Set<String> getPropertyNames() {
    return VALUES.keySet();
  }

  @Override
  public String getValue(String propertyName) {
    return VALUES.get(propertyName);
  }

  @Override
  public String getName() {
    return "agserver-conformance";
  }

  @Override
  public int getOrdinal() {
    // Above microprofile-config.properties (100), below system properties and env (400, 300).
    return 250;
  }
}
