package io.agserver.arquillian;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.Node;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.asset.StringAsset;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.agserver.AGServer;

/**
 * The server's figures on each runtime of the Arquillian profiles. Payara Micro has MicroProfile
 * Metrics 5.1 built in: agserver's metrics are in its Prometheus text at {@code /metrics}, on the
 * HTTP port, and move with real traffic. The Arquillian Liberty server has no mpMetrics feature
 * (src/test/arquillian-liberty/server.xml): the same WAR deploys and runs there, counts its
 * figures, and there is no {@code /metrics}. The deployment is the product WAR with its own
 * microprofile-config.properties (the timers' buckets) plus this test's keys.
 */
@ExtendWith(ArquillianExtension.class)
class MetricsInContainerIT {

  static final String NAME = "agserver-metrics";

  @Deployment
  static WebArchive deployment() throws IOException {
    File product = new File(System.getProperty("agserver.war", "target/agserver.war"));
    String port = System.getProperty("arquillian.http.port");
    if (port == null) {
      throw new IllegalStateException("set -Darquillian.http.port (the runtime's HTTP port)");
    }
    // The profiles tell the runtimes apart: only arquillian-payara names a Payara Micro jar.
    boolean exported = System.getProperty("arquillian.payara.microJar") != null;
    WebArchive war = ShrinkWrap.create(WebArchive.class, NAME + ".war")
        .merge(ShrinkWrap.createFromZipFile(WebArchive.class, product));
    String configPath = "/WEB-INF/classes/META-INF/microprofile-config.properties";
    String config = read(war.get(configPath)) + String.join("\n",
        "",
        "# Added by MetricsInContainerIT",
        "agserver.arquillian.url=ws://127.0.0.1:" + port + "/" + NAME + "/socketcluster/",
        "agserver.arquillian.metricsUrl=http://127.0.0.1:" + port + "/metrics",
        "agserver.arquillian.metricsExported=" + exported,
        "");
    war.delete(configPath);
    war.addAsResource(new StringAsset(config), "META-INF/microprofile-config.properties");
    war.addClasses(GreetingProcedures.class, WsClient.class);
    return war;
  }

  private static String read(Node node) throws IOException {
    try (InputStream in = node.getAsset().openStream()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toString(StandardCharsets.UTF_8);
    }
  }

  @Inject
  AGServer server;

  private static String config(String key) {
    return ConfigProvider.getConfig().getValue(key, String.class);
  }

  private static HttpResponse<String> scrape() throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(config("agserver.arquillian.metricsUrl")))
        .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The value of the sample {@code name} with the application's scope, or -1 if absent. */
  private static double sample(String text, String name) {
    for (String line : text.split("\n")) {
      if (line.startsWith(name + "{") && line.contains("mp_scope=\"application\"")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return -1;
  }

  @Test
  void figuresAreCountedAndExportedWhereTheRuntimeHasMicroProfileMetrics() throws Exception {
    long rpcsBefore = server.figures().rpcs();
    long handshakesBefore = server.figures().handshakes();
    try (WsClient client = WsClient.connect(URI.create(config("agserver.arquillian.url")))) {
      client.handshake();
      for (int i = 0; i < 3; i++) {
        Map<String, Object> answer = client.invoke("arq.greet", Map.of("name", "metrics " + i));
        assertNotNull(answer.get("data"), "answer " + answer);
      }
      client.close(1000, "done");
      client.awaitClose(10_000);
    }
    assertTrue(server.figures().rpcs() - rpcsBefore >= 3, "RPCs counted: " + server.figures().rpcs());
    assertTrue(server.figures().handshakes() - handshakesBefore >= 1);

    if (!Boolean.parseBoolean(config("agserver.arquillian.metricsExported"))) {
      // Open Liberty without mpMetrics-5.1: the WAR runs, and nothing serves /metrics.
      assertEquals(404, scrape().statusCode());
      return;
    }
    // Counters reach the registry within a second: scraped until they have (Awaitility is not
    // in the deployment, so a plain bounded poll).
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    String text;
    do {
      HttpResponse<String> response = scrape();
      assertEquals(200, response.statusCode());
      assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
      text = response.body();
      if (sample(text, "agserver_rpcs_total") >= 3 && text.contains("agserver_connections_closed_total{code=\"1000\"")) {
        break;
      }
      Thread.sleep(250); // the poll interval
    } while (System.nanoTime() < deadline);
    assertTrue(text.contains("# TYPE agserver_rpcs_total counter"), text);
    assertTrue(text.contains("# TYPE agserver_rpc_duration_seconds histogram"), text);
    assertTrue(text.contains("# TYPE agserver_connections gauge"), text);
    assertTrue(sample(text, "agserver_rpcs_total") >= 3, text);
    assertTrue(sample(text, "agserver_rpc_duration_seconds_count") >= 3, text);
    assertTrue(sample(text, "agserver_handshakes_total") >= 1, text);
    assertTrue(sample(text, "agserver_connections_accepted_total") >= 1, text);
    assertTrue(sample(text, "agserver_messages_received_total") >= 4, text);
    assertTrue(text.contains("agserver_connections_closed_total{code=\"1000\""), text);
  }
}
