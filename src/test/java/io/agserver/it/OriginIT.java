package io.agserver.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The origins option on a running server (the test application's second server, origins
 * "https://example.com:443 *:80"): whole entries admit, a refused origin gets the original's
 * HTTP refusal (403 with the ServerProtocolError's message), and a missing Origin is "*" on
 * port 80.
 */
class OriginIT {

  static final String PATH = "/socketcluster-transport/";

  @ParameterizedTest
  @ValueSource(strings = {"https://example.com", "https://example.com:443", "http://anyone.example",
      "http://anyone.example:80", "null"})
  void admitted(String origin) throws Exception {
    assertEquals(101, Upgrade.request(PATH, Map.of("Origin", origin)).status(), origin);
  }

  @ParameterizedTest
  @ValueSource(strings = {"https://ample.com", "https://ample.com:443", "https://e.com", "https://www.example.com",
      "http://example.com:8080", "https://example.com:8443"})
  void refusedWith403AndTheOriginalsMessage(String origin) throws Exception {
    Upgrade answer = Upgrade.request(PATH, Map.of("Origin", origin));
    assertEquals(403, answer.status(), origin);
    assertTrue(answer.headers().getOrDefault("Content-Type", "").startsWith("text/plain"), answer.headers().toString());
    assertEquals("Failed to authorize socket handshake - Invalid origin: " + origin, answer.body());
  }

  @org.junit.jupiter.api.Test
  void noOriginIsStarOnPort80() throws Exception {
    assertEquals(101, Upgrade.request(PATH, Map.of()).status());
  }
}
