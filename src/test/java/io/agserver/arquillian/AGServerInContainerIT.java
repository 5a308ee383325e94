package io.agserver.arquillian;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jakarta.inject.Inject;
import jakarta.websocket.CloseReason;

import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.asset.StringAsset;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.agserver.AGServer;

/**
 * agserver inside the runtime under test (Open Liberty or Payara Micro: one Maven profile each,
 * arquillian-liberty and arquillian-payara). The deployment is the product WAR
 * (target/agserver.war) plus this package's beans and a microprofile-config.properties of its
 * own; the tests run inside the server, inject {@link AGServer} and CDI beans, and connect real
 * WebSocket clients ({@link WsClient}, the runtime's own client) over TCP.
 */
@ExtendWith(ArquillianExtension.class)
class AGServerInContainerIT {

  static final String NAME = "agserver-arq";
  static final long PING_INTERVAL = 200;
  static final long PING_TIMEOUT = 1500;

  @Deployment
  static WebArchive deployment() {
    File product = new File(System.getProperty("agserver.war", "target/agserver.war"));
    String port = System.getProperty("arquillian.http.port");
    if (port == null) {
      throw new IllegalStateException("set -Darquillian.http.port (the runtime's HTTP port)");
    }
    // The deployment's own configuration, in place of the product's (all-commented) file.
    String config = String.join("\n",
        "# Written by AGServerInContainerIT: options that differ from the defaults",
        "socketcluster.pingInterval=" + PING_INTERVAL,
        "socketcluster.pingTimeout=" + PING_TIMEOUT,
        "socketcluster.warmUp=0",
        "agserver.arquillian.url=ws://127.0.0.1:" + port + "/" + NAME + "/socketcluster/",
        "");
    WebArchive war = ShrinkWrap.create(WebArchive.class, NAME + ".war")
        .merge(ShrinkWrap.createFromZipFile(WebArchive.class, product));
    war.delete("/WEB-INF/classes/META-INF/microprofile-config.properties");
    war.addAsResource(new StringAsset(config), "META-INF/microprofile-config.properties");
    war.addClasses(EventRecorder.class, GreetingProcedures.class, WsClient.class,
        MiddlewareBeans.class, MiddlewareBeans.First.class, MiddlewareBeans.Second.class);
    return war;
  }

  @Inject
  AGServer server;

  @Inject
  EventRecorder recorder;

  private static URI uri() {
    return URI.create(ConfigProvider.getConfig().getValue("agserver.arquillian.url", String.class));
  }

  @Test
  void theServerIsAnInjectableBean() {
    assertNotNull(server);
    assertTrue(server.isReady());
    assertEquals("/socketcluster/", server.path());
  }

  @Test
  void connectionLifecycleEventsInOrder() throws Exception {
    String id;
    try (WsClient client = WsClient.connect(uri())) {
      id = (String) client.handshake().get("id");
      assertTrue(server.clients().containsKey(id), "connected sockets include " + id);
      assertEquals(List.of("handshake", "connection"), recorder.awaitEvent(id, "connection", 5000));
      client.close(1000, "done");
      client.awaitClose(5000);
    }
    assertEquals(List.of("handshake", "connection", "disconnection:1000", "closure:1000"),
        recorder.awaitEvent(id, "closure", 5000));
    assertFalse(server.clients().containsKey(id));
  }

  @Test
  void asyncObserversReceiveTheEventsToo() throws Exception {
    try (WsClient client = WsClient.connect(uri())) {
      String id = (String) client.handshake().get("id");
      assertNotNull(recorder.awaitAsyncConnection(id, 5000), "@ObservesAsync saw the connection of " + id);
    }
  }

  @Test
  void aSocketClosedBeforeItsHandshakeAborts() throws Exception {
    Set<String> known = recorder.socketIds();
    String id;
    try (WsClient client = WsClient.connect(uri())) {
      // The server adds a socket to its pending clients before its handshake event: once the
      // recorder has that event, the socket is pending.
      id = recorder.awaitNewSocket(known, 10_000);
      assertNotNull(id, "a handshake event for the new socket");
      assertTrue(server.pendingClients().containsKey(id), "the new socket " + id + " is pending: "
          + server.pendingClients().keySet());
      client.close(1000, "never mind");
      client.awaitClose(5000);
    }
    assertEquals(List.of("handshake", "connectionAbort", "closure:1000"), recorder.awaitEvent(id, "closure", 5000));
  }

  @Test
  void microProfileConfigOverridesTakeEffect() throws Exception {
    assertEquals(PING_INTERVAL, server.options().pingInterval());
    assertEquals(PING_TIMEOUT, server.options().pingTimeout());
    try (WsClient client = WsClient.connect(uri())) {
      Map<String, Object> answer = client.handshake();
      assertEquals(PING_TIMEOUT, ((Number) answer.get("pingTimeout")).longValue());
      String id = (String) answer.get("id");
      // Stop answering pings: the server closes with 4001 after pingTimeout, not the default 30 s
      // (awaited for half that), and only after several unanswered pings, which come every
      // pingInterval (200 ms; 8 s by default) for the pingTimeout (1500 ms).
      client.answerPings(false);
      int answered = client.pings();
      CloseReason reason = client.awaitClose(15_000);
      int unanswered = client.pings() - answered;
      assertEquals(4001, reason.getCloseCode().getCode(), "close code (" + reason + ")");
      assertTrue(unanswered >= 3, unanswered + " unanswered pings before the close");
      assertEquals("disconnection:4001", recorder.awaitEvent(id, "closure", 5000).get(2));
    }
  }

  @Test
  void aProcedureHandlerAnswers() throws Exception {
    try (WsClient client = WsClient.connect(uri())) {
      String id = (String) client.handshake().get("id");
      Map<String, Object> response = client.invoke("arq.greet", Map.of("name", "arquillian"));
      @SuppressWarnings("unchecked")
      Map<String, Object> data = (Map<String, Object>) response.get("data");
      assertNotNull(data, "response " + response);
      assertEquals("hello arquillian", data.get("greeting"));
      assertEquals(id, data.get("socketId"));
      assertTrue(((Number) data.get("clients")).intValue() >= 1);
    }
  }

  @Test
  void middlewareBeansRunInPriorityOrderAndBlock() throws Exception {
    try (WsClient client = WsClient.connect(uri())) {
      client.handshake();
      Map<String, Object> response = client.invoke("arq.greet", Map.of("name", "middleware"));
      @SuppressWarnings("unchecked")
      Map<String, Object> data = (Map<String, Object>) response.get("data");
      assertNotNull(data, "response " + response);
      assertEquals(List.of("first", "second"), data.get("middleware"));

      Map<String, Object> blocked = client.invoke("arq.forbidden", null);
      @SuppressWarnings("unchecked")
      Map<String, Object> error = (Map<String, Object>) blocked.get("error");
      assertNotNull(error, "response " + blocked);
      assertEquals("ArqForbiddenError", error.get("name"));
      assertEquals("Blocked by an Arquillian middleware bean", error.get("message"));
    }
  }
}
