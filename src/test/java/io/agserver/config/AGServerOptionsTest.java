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
  void theDrainTimeFitsKubernetesGracePeriodAndZeroClosesAllAtOnce() {
    AGServerOptions defaults = AGServerOptions.defaults();
    assertEquals(10_000, defaults.drainTime());
    // Every socket is closed within drainTime + ackTimeout: inside the default 30 s grace period.
    assertTrue(defaults.drainTime() + defaults.ackTimeout() <= 20_000);
    assertEquals(0, read(Map.of("socketcluster.drainTime", "0")).drainTime());
    assertEquals(4000, read(Map.of("socketcluster.drainTime", "4000")).drainTime());
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> read(Map.of("socketcluster.drainTime", "-1")));
    assertTrue(error.getMessage().contains("socketcluster.drainTime"), error.getMessage());
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
  void limitsAreOffUnlessSet() {
    LimitOptions limits = AGServerOptions.defaults().limits();
    assertFalse(limits.limitsConnections());
    assertFalse(limits.limitsRate());
    assertEquals(LimitOptions.none(), limits);
    assertEquals(LimitOptions.none(), read(Map.of("socketcluster.maxConnections", "none",
        "socketcluster.maxConnectionsPerAddress", "0", "socketcluster.rateLimit.messagesPerSecond", "none")).limits());
  }

  @Test
  void limitsAreReadFromTheirKeys() {
    LimitOptions limits = read(Map.of(
        "socketcluster.maxConnections", "10000",
        "socketcluster.maxConnectionsPerAddress", "20",
        "socketcluster.clientAddressHeader", "X-Forwarded-For",
        "socketcluster.rateLimit.messagesPerSecond", "2.5",
        "socketcluster.rateLimit.burst", "40",
        "socketcluster.rateLimit.closeAfter", "200")).limits();
    assertEquals(new LimitOptions(10000, 20, Optional.of("X-Forwarded-For"), 2.5, 40, 200), limits);
    assertTrue(limits.limitsConnections());
    assertTrue(limits.limitsRate());
  }

  @Test
  void theBurstIsOneSecondsWorthUnlessSet() {
    assertEquals(50, read(Map.of("socketcluster.rateLimit.messagesPerSecond", "50")).limits().burst());
    assertEquals(3, read(Map.of("socketcluster.rateLimit.messagesPerSecond", "2.5")).limits().burst());
    assertEquals(1, read(Map.of("socketcluster.rateLimit.messagesPerSecond", "0.2")).limits().burst());
  }

  @Test
  void aBadLimitFailsNamingTheKey() {
    Map<String, Map<String, String>> bad = Map.of(
        "socketcluster.maxConnections", Map.of("socketcluster.maxConnections", "-1"),
        "socketcluster.maxConnectionsPerAddress", Map.of("socketcluster.maxConnectionsPerAddress", "many"),
        "socketcluster.rateLimit.messagesPerSecond", Map.of("socketcluster.rateLimit.messagesPerSecond", "-2"),
        "socketcluster.rateLimit.burst", Map.of("socketcluster.rateLimit.messagesPerSecond", "5",
            "socketcluster.rateLimit.burst", "0"),
        "socketcluster.rateLimit.closeAfter", Map.of("socketcluster.rateLimit.messagesPerSecond", "5",
            "socketcluster.rateLimit.closeAfter", "-1"),
        "socketcluster.clientAddressHeader", Map.of("socketcluster.maxConnectionsPerAddress", "5",
            "socketcluster.clientAddressHeader", "X Forwarded"));
    bad.forEach((key, values) -> {
      IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> read(values), key);
      assertTrue(error.getMessage().contains(key), error.getMessage());
    });
    assertThrows(IllegalArgumentException.class,
        () -> read(Map.of("socketcluster.rateLimit.messagesPerSecond", "NaN")));
  }

  @Test
  void anOptionThatWouldBeIgnoredFailsTheDeployment() {
    IllegalArgumentException burst = assertThrows(IllegalArgumentException.class,
        () -> read(Map.of("socketcluster.rateLimit.burst", "10")));
    assertTrue(burst.getMessage().contains("socketcluster.rateLimit.messagesPerSecond"), burst.getMessage());
    assertThrows(IllegalArgumentException.class, () -> read(Map.of("socketcluster.rateLimit.closeAfter", "10")));
    IllegalArgumentException header = assertThrows(IllegalArgumentException.class,
        () -> read(Map.of("socketcluster.clientAddressHeader", "X-Forwarded-For")));
    assertTrue(header.getMessage().contains("socketcluster.maxConnectionsPerAddress"), header.getMessage());
  }

  @Test
  void theAdminPageIsOffUnlessItsPasswordIsSetAndThePasswordIsTakenAsItIs() {
    assertFalse(AGServerOptions.defaults().admin().enabled());
    assertFalse(read(Map.of("socketcluster.admin.password", "")).admin().enabled());
    AdminOptions admin = read(Map.of("socketcluster.admin.password", " two words ")).admin();
    assertTrue(admin.enabled());
    assertEquals(Optional.of(" two words "), admin.password());
    assertFalse(admin.toString().contains("two words"), admin.toString());
    assertFalse(read(Map.of("socketcluster.admin.password", "secret")).toString().contains("secret"));
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
