package io.agserver.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The scenarios, small and short, against a server that batches packets into arrays. */
class ScenariosTest {
  private ArrayServer server;

  @BeforeEach
  void start() throws Exception {
    server = new ArrayServer(300);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private Options options(String... args) {
    return new Options(List.of(args));
  }

  @Test
  void rpcCountsEveryAnswerOfBatchedReplies() throws Exception {
    try (Net net = new Net(server.url(), 1, true)) {
      Rpc rpc = new Rpc(net, 0, options("--connections", "20", "--in-flight", "10", "--warmup-seconds", "0.5", "--seconds", "1"));
      rpc.run();
      assertEquals(0L, rpc.summary.get("errors"), rpc.details.toString());
      assertTrue((Long) rpc.summary.get("requestsPerSec") > 0);
      assertEquals(0L, rpc.details.get("wrongData"));
    }
    assertTrue(server.arrays() > 0, "the server sent arrays");
  }

  @Test
  void fanoutDeliversEveryMessageOnce() throws Exception {
    try (Net net = new Net(server.url(), 1, true)) {
      PubSub p = new PubSub(net, 0, options("--subscribers", "50", "--rate", "1000", "--warmup-seconds", "0.5",
          "--step-seconds", "1", "--tail-seconds", "0.5"), "fanout");
      p.run();
      assertEquals(0L, p.summary.get("lost"), p.details.toString());
      assertEquals(0L, p.summary.get("duplicates"));
      assertEquals(0L, p.summary.get("misrouted"));
      assertEquals(p.details.get("deliveriesOwed"), p.details.get("deliveries"));
      assertTrue((Long) p.details.get("deliveries") > 50 * 200);
    }
    assertTrue(server.arrays() > 0);
  }

  @Test
  void channelsRouteToSubscribersOnly() throws Exception {
    try (Net net = new Net(server.url(), 1, true)) {
      PubSub p = new PubSub(net, 0, options("--subscribers", "100", "--channels", "50", "--channels-per-subscriber", "5",
          "--publishers", "3", "--rate", "500", "--warmup-seconds", "0.5", "--step-seconds", "1", "--tail-seconds", "0.5"), "channels");
      p.run();
      assertEquals(10, p.details.get("subscribersPerChannel"));
      assertEquals(0L, p.summary.get("lost"), p.details.toString());
      assertEquals(0L, p.summary.get("misrouted"));
      assertEquals(0L, p.summary.get("duplicates"));
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void clusterPublishesThroughTheSecondServer() throws Exception {
    try (ArrayServer second = new ArrayServer(300, server); Net net = new Net(server.url(), 1, true)) {
      long self = ProcessHandle.current().pid();
      PubSub p = new PubSub(net, 0, options("--subscribers", "50", "--publish-url", second.url(), "--publisher-pid",
          Long.toString(self), "--broker-pid", Long.toString(self), "--settle-seconds", "0.3", "--rate", "500",
          "--warmup-seconds", "0.5", "--step-seconds", "1", "--tail-seconds", "0.5"), "cluster");
      p.run();
      assertEquals(0L, p.summary.get("lost"), p.details.toString());
      assertEquals(0L, p.summary.get("duplicates"));
      assertEquals(p.details.get("deliveriesOwed"), p.details.get("deliveries"));
      assertEquals(0, server.publishesIn(), "nothing published on the measured server");
      assertTrue(second.publishesIn() > 500, "published on the second server");
      var broker = (java.util.Map<String, Object>) p.details.get("brokerCpu");
      assertEquals(p.details.get("messages"), broker.get("messages"));
      assertTrue((Double) p.summary.get("brokerCpuUsPerPublish") >= 0);
      var step = ((java.util.List<java.util.Map<String, Object>>) p.details.get("steps")).get(0);
      assertTrue(step.containsKey("publisherCores") && step.containsKey("brokerCores"), step.toString());
    }
  }

  @Test
  void rampEndsAtTheStepLimit() throws Exception {
    try (Net net = new Net(server.url(), 1, true)) {
      PubSub p = new PubSub(net, 0, options("--subscribers", "10", "--start-rate", "50", "--max-steps", "2",
          "--warmup-seconds", "0", "--step-seconds", "0.5", "--tail-seconds", "0.3"), "fanout");
      p.run();
      assertEquals(true, p.summary.get("rampLimitReached"));
      assertTrue((Long) p.summary.get("sustainedDeliveriesPerSec") > 0);
    }
  }

  @Test
  void idleConnectionsAnswerPings() throws Exception {
    try (Net net = new Net(server.url(), 2, true)) {
      Idle idle = new Idle(net, 0, options("--connections", "200", "--hold-seconds", "1"), false);
      idle.run();
      assertEquals(200, idle.summary.get("aliveAtEnd"));
      assertEquals(200, idle.summary.get("pinged"));
    }
    assertTrue(server.pongs() >= 200);
  }

  @Test
  void connectOpensAndClosesThemAll() throws Exception {
    try (Net net = new Net(server.url(), 1, true)) {
      Connect c = new Connect(net, 0, options("--warmup", "50", "--warmup-seconds", "0.5", "--connections", "300", "--in-flight", "20"));
      c.run();
      assertEquals(300, c.summary.get("opened"));
      assertEquals(0, c.summary.get("failed"));
      assertEquals(0, c.details.get("notClosed"));
    }
  }
}
