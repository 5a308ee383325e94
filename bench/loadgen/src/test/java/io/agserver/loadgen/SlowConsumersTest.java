package io.agserver.loadgen;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The slow scenario's bookkeeping: against a small server that never cuts anyone off (so the
 * stalled clients stop reading and stay), every reader's deliveries counted and the latency split
 * by phase; with deliveries dropped, the losses seen. And the readers of what it samples: the
 * kernel's TCP table, the metrics page, a JVM's performance counters.
 */
class SlowConsumersTest {

  private static SlowConsumers run(ArrayServer server) throws Exception {
    try (Net net = new Net(server.url(), 1, true)) {
      Options o = new Options(List.of("--readers", "20", "--stalled", "5", "--rate", "200",
          "--payload-bytes", "200", "--warmup-seconds", "0.5", "--baseline-seconds", "1", "--max-stall-seconds", "1.5",
          "--resume-seconds", "0.5", "--sample-seconds", "0.5", "--check-ms", "100", "--pong-ms", "200",
          "--metrics-url", ""));
      SlowConsumers s = new SlowConsumers(net, 0, o);
      o.rejectUnused();
      s.run();
      return s;
    }
  }

  @Test
  void readersGetEverythingAndStalledClientsStop() throws Exception {
    try (ArrayServer server = new ArrayServer(300)) {
      SlowConsumers s = run(server);
      Map<String, Object> sum = s.summary;
      assertEquals(0L, sum.get("lost"), sum.toString());
      assertEquals(0L, sum.get("duplicates"), sum.toString());
      assertEquals(5L, sum.get("stoppedReading"), sum.toString());
      // This server cuts nobody off: the run does not count as passed.
      assertEquals(0L, sum.get("cutOff"), sum.toString());
      assertFalse(s.valid());
      long published = (Long) sum.get("published");
      assertTrue(published > 300, sum.toString());
      assertEquals((int) published, sum.get("readerMinDeliveries"), sum.toString());
      assertTrue((Long) ((Map<?, ?>) s.details.get("latencyAlone")).get("count") > 100 * 20, s.details.toString());
      assertTrue((Long) ((Map<?, ?>) s.details.get("latencyBeside")).get("count") > 100 * 20, s.details.toString());
      assertTrue(server.pongs > 0);
    }
  }

  @Test
  void dropsAreLosses() throws Exception {
    try (ArrayServer server = new ArrayServer(300)) {
      server.dropEvery = 97;
      SlowConsumers s = run(server);
      assertTrue((Long) s.summary.get("lost") > 0, s.summary.toString());
    }
  }

  @Test
  void cutTimesRunFromEachStopToItsCut() {
    long s = 1_000_000_000L;
    long[] stop = {10 * s, 11 * s, 12 * s, 0};
    long[] cut = {40 * s, 0, 52 * s, 0};
    double[] t = SlowConsumers.cutTimes(stop, cut);
    assertArrayEquals(new double[] {30, 30, 40, 42}, t, 1e-9);
    assertTrue(Double.isNaN(SlowConsumers.cutTimes(new long[] {s}, new long[] {0})[0]));
  }

  @Test
  void theLastLine() {
    assertEquals("slow consumers: 1000 stalled, 999 cut off (outbound_buffer 0, send_timeout 999) in 41 s; readers p99 3.1 ms "
        + "alone, 4.8 ms beside them (1.55x); lost 0; server RSS 410 -> 690 MB peak",
        SlowConsumers.line(1000, 999, 0, 999, 41.2, 3.1, 4.8, 0, 410.3, 690.4));
  }

  @Test
  void serverEndsFromTheKernelsTables() throws Exception {
    String little = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? "0100007F" : "7F000001";
    String v4 = "  sl  local_address rem_address   st\n"
        + "   0: " + little + ":21DE " + little + ":A000 01 00000000:00000000 00:00000000 00000000 0 0 1\n"
        + "   1: " + little + ":A001 " + little + ":21DE 01 00000000:00000000 00:00000000 00000000 0 0 1\n"
        + "   2: " + little + ":21DE 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1\n";
    String v6 = "  sl  local_address                         remote_address                        st\n"
        + "   0: 0000000000000000FFFF0000" + little + ":21DE 0000000000000000FFFF0000" + little + ":A002 04 0\n";
    Map<String, Integer> m = TcpStates.serverSides(v4, 0x21DE);
    m.putAll(TcpStates.serverSides(v6, 0x21DE));
    assertEquals(Map.of("127.0.0.1:40960", 1, "127.0.0.1:40962", 4, "0.0.0.0:0", 10), m);
    assertEquals("127.0.0.1:40962", TcpStates.key(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 40962)));
  }

  @Test
  void metricsPageSeries() {
    String page = "# TYPE agserver_slow_consumers_total counter\n"
        + "agserver_slow_consumers_total{mp_scope=\"application\",reason=\"outbound_buffer\"} 3.0\n"
        + "agserver_slow_consumers_total{mp_scope=\"application\",reason=\"send_timeout\"} 997.0\n"
        + "agserver_connections{mp_scope=\"application\"} 2001.0\n"
        + "jvm_threads 12\n";
    Map<String, Double> m = MetricsText.parse(page, "agserver_");
    assertEquals(1000.0, MetricsText.sum(m, "agserver_slow_consumers_total"));
    assertEquals(2001.0, m.get("agserver_connections"));
    Map<String, Double> before = Map.of("agserver_slow_consumers_total{reason=\"send_timeout\"}", 7.0);
    assertEquals(Map.of("agserver_slow_consumers_total{reason=\"outbound_buffer\"}", 3L,
        "agserver_slow_consumers_total{reason=\"send_timeout\"}", 990L),
        MetricsText.delta(before, m, "agserver_slow_consumers_total"));
  }

  @Test
  void performanceCounters() {
    byte[] name1 = "sun.gc.generation.0.space.0.used\0".getBytes(StandardCharsets.US_ASCII);
    byte[] name2 = "sun.gc.generation.1.space.0.used\0".getBytes(StandardCharsets.US_ASCII);
    ByteBuffer b = ByteBuffer.allocate(32 + 2 * (20 + 40 + 8)).order(ByteOrder.LITTLE_ENDIAN);
    b.order(ByteOrder.BIG_ENDIAN).putInt(0, 0xcafec0c0).order(ByteOrder.LITTLE_ENDIAN);
    b.put(4, (byte) 1);
    b.putInt(24, 32);
    b.putInt(28, 2);
    int at = 32;
    long[] values = {3_000_000, 40_000_000};
    byte[][] names = {name1, name2};
    for (int i = 0; i < 2; i++) {
      b.putInt(at, 68).putInt(at + 4, 20).putInt(at + 8, 0).put(at + 12, (byte) 'J').putInt(at + 16, 60);
      b.put(at + 20, names[i]);
      b.putLong(at + 60, values[i]);
      at += 68;
    }
    assertEquals(43_000_000L, PerfData.heapUsed(PerfData.longs(b.array())));
    // This JVM's own counters, where it shares them.
    var own = PerfData.file(ProcessHandle.current().pid());
    if (own != null) {
      assertTrue(PerfData.heapUsed(own) > 0);
    }
  }
}
