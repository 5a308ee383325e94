package io.agserver.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * MicroProfile Health on the running server (Open Liberty with mpHealth-4.0): the three probes
 * answer JSON as the specification defines it, with agserver's checks and their data. The test
 * server has no warm-up (socketcluster.warmUp=0) and the memory engine, so every check is UP.
 */
class HealthIT {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  /** http://HOST:PORT of the server under test. */
  static URI base() {
    URI ws = URI.create(RawWebSocket.url());
    return URI.create("http://" + ws.getHost() + ":" + ws.getPort());
  }

  /** The probe's answer: its HTTP status and its JSON body. */
  record Probe(int status, Map<?, ?> body) {

    /** Its checks by name (a probe may have two of one name: those are merged, none here). */
    Map<String, Map<?, ?>> checks() {
      Map<String, Map<?, ?>> byName = new HashMap<>();
      for (Object check : (List<?>) body.get("checks")) {
        Map<?, ?> map = (Map<?, ?>) check;
        byName.put((String) map.get("name"), map);
      }
      return byName;
    }
  }

  static Probe probe(String path) throws Exception {
    HttpResponse<String> response = HTTP.send(
        HttpRequest.newBuilder(base().resolve(path)).timeout(Duration.ofSeconds(20)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
        path + ": " + response.headers().map());
    return new Probe(response.statusCode(), (Map<?, ?>) Json.parse(response.body()));
  }

  private static Map<?, ?> data(Map<?, ?> check) {
    return (Map<?, ?>) check.get("data");
  }

  @Test
  void liveness() throws Exception {
    Probe live = probe("/health/live");
    assertEquals(200, live.status(), live.body().toString());
    assertEquals("UP", live.body().get("status"));
    Map<String, Map<?, ?>> checks = live.checks();
    assertEquals(Set.of("agserver-timer", "agserver-senders"), checks.keySet(), live.body().toString());

    Map<?, ?> timer = checks.get("agserver-timer");
    assertEquals("UP", timer.get("status"));
    assertEquals(Set.of("lastSweepMsAgo", "sweepPeriodMs", "limitMs"), data(timer).keySet());
    assertTrue(((Number) data(timer).get("lastSweepMsAgo")).longValue() <= 10_000, timer.toString());
    assertEquals(10_000L, data(timer).get("limitMs"));

    Map<?, ?> senders = checks.get("agserver-senders");
    assertEquals("UP", senders.get("status"));
    assertEquals(Set.of("threads", "writing", "queued", "stalledMs", "waitingForWindow", "limitMs"),
        data(senders).keySet());
    // Twice the default sendTimeout (20 s): the conformance application leaves it as it is.
    assertEquals(40_000L, data(senders).get("limitMs"));
  }

  @Test
  void readiness() throws Exception {
    Probe ready = probe("/health/ready");
    assertEquals(200, ready.status(), ready.body().toString());
    assertEquals("UP", ready.body().get("status"));
    Map<?, ?> check = ready.checks().get("agserver");
    assertEquals("UP", check.get("status"), ready.body().toString());
    Map<?, ?> data = data(check);
    assertEquals(true, data.get("deployed"));
    assertEquals(true, data.get("ready"));
    assertEquals("memory", data.get("brokerEngine"));
    assertEquals(true, data.get("brokerConnected"));
    assertEquals("off", data.get("warmUp"));
    assertEquals(0L, data.get("warmUpHandshakes"));
    assertInstanceOf(Long.class, data.get("clients"));
    assertInstanceOf(Long.class, data.get("pendingClients"));
  }

  @Test
  void startup() throws Exception {
    Probe started = probe("/health/started");
    assertEquals(200, started.status(), started.body().toString());
    assertEquals("UP", started.body().get("status"));
    Map<?, ?> check = started.checks().get("agserver");
    assertEquals("UP", check.get("status"));
    assertEquals(Map.of("path", "/socketcluster/"), data(check));
  }

  /** /health is all three at once. */
  @Test
  void all() throws Exception {
    Probe all = probe("/health");
    assertEquals(200, all.status(), all.body().toString());
    assertEquals("UP", all.body().get("status"));
    assertEquals(4, ((List<?>) all.body().get("checks")).size(), all.body().toString());
  }
}
