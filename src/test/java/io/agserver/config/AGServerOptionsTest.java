package io.agserver.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

/** Options from configuration keys: the original's defaults, and failures that name the key. */
class AGServerOptionsTest {

  private static AGServerOptions read(Map<String, String> values) {
    return AGServerOptions.from(key -> Optional.ofNullable(values.get(key)));
  }

  @Test
  void defaultsAreThoseOfTheOriginalsCode() {
    AGServerOptions options = AGServerOptions.defaults();
    assertEquals("/socketcluster/", options.path());
    assertEquals(10_000, options.ackTimeout());
    assertEquals(10_000, options.handshakeTimeout());
    assertEquals(8_000, options.pingInterval());
    assertEquals(30_000, options.pingTimeout());
    assertFalse(options.pingTimeoutDisabled());
    assertTrue(options.strictHandshake());
    assertEquals(2, options.protocolVersion());
    assertEquals("*:*", options.origins());
    assertNull(options.socketChannelLimit());
    assertTrue(options.allowClientPublish());
    assertTrue(options.middlewareEmitFailures());
    assertFalse(options.batchOnHandshake());
    assertEquals(400, options.batchOnHandshakeDuration());
    assertEquals(50, options.batchInterval());
    assertEquals(AGServerOptions.CleanupMode.KILL, options.socketStreamCleanupMode());
    assertEquals(8L * 1024 * 1024, options.maxPayload());
    assertEquals(86_400, options.authDefaultExpiry());
  }

  @Test
  void sendersAreOneACoreAndAtLeastFour() {
    int cores = Runtime.getRuntime().availableProcessors();
    assertEquals(Math.max(4, cores), AGServerOptions.defaults().senderThreads());
    assertEquals(2, read(Map.of("socketcluster.senderThreads", "2")).senderThreads());
  }

  @Test
  void theSendTimeoutIsAgserversOwnWithAProductionDefault() {
    assertEquals(20_000, AGServerOptions.defaults().sendTimeout());
    assertEquals(1500, read(Map.of("socketcluster.sendTimeout", "1500")).sendTimeout());
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> read(Map.of("socketcluster.sendTimeout", "0")));
    assertTrue(error.getMessage().contains("socketcluster.sendTimeout"), error.getMessage());
  }

  @Test
  void valuesAreReadFromTheirKeys() {
    AGServerOptions options = read(Map.of(
        "socketcluster.pingInterval", "1000",
        "socketcluster.protocolVersion", "1",
        "socketcluster.socketChannelLimit", "50",
        "socketcluster.allowClientPublish", "FALSE",
        "socketcluster.socketStreamCleanupMode", "close",
        "socketcluster.path", " /sc/ "));
    assertEquals(1000, options.pingInterval());
    assertEquals(1, options.protocolVersion());
    assertEquals(50, options.socketChannelLimit());
    assertFalse(options.allowClientPublish());
    assertEquals(AGServerOptions.CleanupMode.CLOSE, options.socketStreamCleanupMode());
    assertEquals("/sc/", options.path());
  }

  @Test
  void aBadValueFailsNamingTheKey() {
    Map<String, String> bad = Map.of(
        "socketcluster.pingInterval", "soon",
        "socketcluster.ackTimeout", "-5",
        "socketcluster.protocolVersion", "3",
        "socketcluster.strictHandshake", "yes",
        "socketcluster.socketStreamCleanupMode", "drop",
        "socketcluster.path", "socketcluster",
        "socketcluster.socketChannelLimit", "many");
    bad.forEach((key, value) -> {
      IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
          () -> read(Map.of(key, value)), key);
      assertTrue(error.getMessage().contains(key), error.getMessage());
      assertTrue(error.getMessage().contains(value), error.getMessage());
    });
  }

  @Test
  void aKeyPairNeedsBothHalves() {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> read(Map.of("socketcluster.authPrivateKey", "pem")));
    assertTrue(error.getMessage().contains("socketcluster.authPublicKey"), error.getMessage());
  }

  @Test
  void noneLiftsTheChannelLimit() {
    assertNull(read(Map.of("socketcluster.socketChannelLimit", "none")).socketChannelLimit());
  }

  @Test
  void theWarmUpLastsAFewSecondsByDefaultAndTakesItsPortAndHostWhenGiven() {
    WarmUpOptions defaults = AGServerOptions.defaults().warmUp();
    assertEquals(WarmUpOptions.DEFAULT_MILLIS, defaults.millis());
    assertTrue(defaults.enabled());
    assertEquals(Optional.empty(), defaults.port());
    assertEquals(Optional.empty(), defaults.host());
    WarmUpOptions set = read(Map.of("socketcluster.warmUp", "0", "socketcluster.warmUp.port", "9443",
        "socketcluster.warmUp.host", "10.0.0.5")).warmUp();
    assertFalse(set.enabled());
    assertEquals(Optional.of(9443), set.port());
    assertEquals(Optional.of("10.0.0.5"), set.host());
  }

  @Test
  void aWarmUpOutOfRangeNamesItsKey() {
    IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
        () -> read(Map.of("socketcluster.warmUp", "-1")));
    assertTrue(negative.getMessage().contains("socketcluster.warmUp"), negative.getMessage());
    IllegalArgumentException port = assertThrows(IllegalArgumentException.class,
        () -> read(Map.of("socketcluster.warmUp.port", "70000")));
    assertTrue(port.getMessage().contains("socketcluster.warmUp.port"), port.getMessage());
  }
}
