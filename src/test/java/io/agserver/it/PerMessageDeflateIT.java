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
 * perMessageDeflate on Open Liberty, as it really behaves: its websocket-2.1 cannot run an
 * extension, so no upgrade is answered with permessage-deflate, with the option off (the main
 * server) or on (the test application's second server), and deploying with it on logs a WARNING
 * naming the option. (On Tyrus runtimes the second server negotiates it: see README.)
 */
class PerMessageDeflateIT {

  private static final Map<String, String> OFFER = Map.of("Sec-WebSocket-Extensions",
      "permessage-deflate; client_max_window_bits");

  @Test
  void optionOffNothingIsNegotiated() throws Exception {
    Upgrade answer = Upgrade.request(URI.create(RawWebSocket.url()).getPath(), OFFER);
    assertEquals(101, answer.status());
    assertNull(answer.headers().get("Sec-WebSocket-Extensions"), answer.headers().toString());
  }

  @Test
  void optionOnLibertyCannotSoNothingIsNegotiatedAndDeploymentWarned() throws Exception {
    Upgrade answer = Upgrade.request(OriginIT.PATH, OFFER);
    assertEquals(101, answer.status());
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
