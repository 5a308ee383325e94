package io.agserver.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * perMessageDeflate as each runtime really behaves (agserver.it.runtime: liberty, the default,
 * or payara when these tests are pointed at a Payara server by hand). With the option off (the
 * main server) nothing is negotiated anywhere. With it on (the test application's second
 * server): Open Liberty's websocket-2.1 cannot run an extension, so nothing is negotiated and
 * deployment logs a WARNING naming the option; Tyrus (Payara) negotiates it.
 */
class PerMessageDeflateIT {

  private static final Map<String, String> OFFER = Map.of("Sec-WebSocket-Extensions",
      "permessage-deflate; client_max_window_bits");

  private static boolean tyrus() {
    return "payara".equals(System.getProperty("agserver.it.runtime", "liberty"));
  }

  @Test
  void optionOffNothingIsNegotiated() throws Exception {
    Upgrade answer = Upgrade.request(URI.create(RawWebSocket.url()).getPath(), OFFER);
    assertEquals(101, answer.status());
    assertNull(answer.headers().get("Sec-WebSocket-Extensions"), answer.headers().toString());
  }

  @Test
  void optionOn() throws Exception {
    Upgrade answer = Upgrade.request(OriginIT.PATH, OFFER);
    assertEquals(101, answer.status());
    if (tyrus()) {
      assertEquals("permessage-deflate", answer.headers().get("Sec-WebSocket-Extensions"));
      // An offer it cannot honour (a deflater's window is 15 bits) is declined, not misread.
      Upgrade small = Upgrade.request(OriginIT.PATH, Map.of("Sec-WebSocket-Extensions",
          "permessage-deflate; server_max_window_bits=10"));
      assertNull(small.headers().get("Sec-WebSocket-Extensions"), small.headers().toString());
      return;
    }
    assertNull(answer.headers().get("Sec-WebSocket-Extensions"), answer.headers().toString());
    String log = System.getProperty("agserver.it.log");
    if (log != null && Files.exists(Path.of(log))) {
      String messages = Files.readString(Path.of(log), StandardCharsets.UTF_8);
      assertTrue(messages.lines().anyMatch(line -> line.contains(" W ")
              && line.contains("socketcluster.perMessageDeflate is true")),
          "a WARNING naming the option in " + log);
      assertFalse(messages.contains("NoClassDefFoundError"), "no class of the Tyrus extension was loaded");
    }
  }
}
