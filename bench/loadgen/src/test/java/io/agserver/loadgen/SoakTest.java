package io.agserver.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The soak's bookkeeping against a small server that can drop or repeat deliveries: nothing lost
 * when nothing is, every dropped delivery seen, every repeated one an error. The sampled process
 * is this test's own JVM.
 */
class SoakTest {
  private ArrayServer server;
  @TempDir
  Path dir;

  @BeforeEach
  void start() throws Exception {
    server = new ArrayServer(300);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private Soak soak(Net net) throws Exception {
    Options o = new Options(List.of("--url", server.url(), "--pids", Long.toString(ProcessHandle.current().pid()),
        "--seconds", "3", "--connections", "40", "--channels", "10", "--rpc-rate", "200", "--publish-rate", "300",
        "--churn-rate", "30", "--reconnect-rate", "10", "--login-rate", "20", "--sample-seconds", "1",
        "--auth-key", "k", "--csv", dir.resolve("samples.csv").toString(), "--line-file", dir.resolve("line.txt").toString()));
    Soak s = new Soak(net, 0, o);
    s.run();
    return s;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> counts(Soak s) {
    return (Map<String, Object>) s.details.get("counts");
  }

  @Test
  void everyDeliveryArrives() throws Exception {
    try (Net net = new Net(server.url(), 1, true)) {
      Soak s = soak(net);
      assertEquals(0L, s.summary.get("lost"), s.details.toString());
      assertEquals(0L, s.summary.get("errors"), s.details.toString());
      assertTrue((Long) s.summary.get("owed") > 500, s.summary.toString());
      assertTrue((Long) counts(s).get("reconnects") > 10, counts(s).toString());
      assertTrue((Long) counts(s).get("unsubscribes") > 30, counts(s).toString());
      assertTrue(s.valid());
    }
    List<String> rows = Files.readAllLines(dir.resolve("samples.csv"));
    assertEquals("elapsed_s,instance,pid,heap_after_gc_mb,rss_mb,threads,fds,connections,publishes,deliveries,errors", rows.get(0));
    assertEquals(5, rows.size(), rows.toString());
    assertTrue(rows.get(4).startsWith("3,0," + ProcessHandle.current().pid() + ","), rows.get(4));
    assertTrue(Files.readString(dir.resolve("line.txt")).startsWith("40 3 0 0 "));
  }

  @Test
  void droppedDeliveriesAreLost() throws Exception {
    server.dropEvery = 25;
    try (Net net = new Net(server.url(), 1, true)) {
      Soak s = soak(net);
      long lost = (Long) s.summary.get("lost");
      long owed = (Long) s.summary.get("owed");
      // Every 25th delivery is dropped; a few of them fall outside what is owed (before a
      // subscribe's answer, after the last delivery a finished subscription received).
      assertTrue(lost > owed / 50 && lost <= owed / 20, lost + " lost of " + owed);
      assertEquals(0L, counts(s).get("duplicates"));
      assertTrue(!s.valid());
    }
  }

  @Test
  void repeatedDeliveriesAreErrors() throws Exception {
    server.duplicateEvery = 25;
    try (Net net = new Net(server.url(), 1, true)) {
      Soak s = soak(net);
      assertEquals(0L, s.summary.get("lost"), s.details.toString());
      long duplicates = (Long) counts(s).get("duplicates");
      assertTrue(duplicates > 0);
      assertEquals(duplicates, s.summary.get("errors"));
    }
  }
}
