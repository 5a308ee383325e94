package io.agserver.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each figure lands in the phase it belongs to; the servers' series are read without mp_scope. */
class FaultPhasesTest {
  @Test
  void figuresGoToTheOpenPhaseAndLossesToThePhaseTheyWereSentIn() {
    FaultPhases p = new FaultPhases("warm-up", 0);
    p.rpc(2_000_000);
    p.begin("Redis restarted (1)", 10_000_000_000L);
    p.rpc(40_000_000);
    p.delivery(7_000_000);
    p.error("#publish answered with an error");
    p.lost(5_000_000_000L);
    p.lost(12_000_000_000L);
    List<Map<String, Object>> r = p.result(20_000_000_000L);
    assertEquals(2, r.size());
    assertEquals(1L, r.get(0).get("rpcs"));
    assertEquals(2.0, (double) r.get(0).get("rpcP99Ms"), 0.01);
    assertEquals(1L, r.get(0).get("plainLost"));
    assertEquals(10.0, r.get(0).get("toS"));
    assertEquals(40.0, (double) r.get(1).get("rpcP99Ms"), 0.1);
    assertEquals(1L, r.get(1).get("plainLost"));
    assertEquals(Map.of("#publish answered with an error", 1L), r.get(1).get("errors"));
    assertEquals(20.0, r.get(1).get("toS"));
    assertTrue(FaultPhases.table(r).get(2).startsWith("Redis restarted (1)"));
  }

  @Test
  void metricsAreSummedWithoutTheScopeLabel() {
    Map<String, Double> m = MetricsText.parse("""
        # TYPE agserver_slow_consumers_total counter
        agserver_slow_consumers_total{mp_scope="application",reason="send_timeout"} 3.0
        agserver_connections{mp_scope="application",} 12.0
        agserver_connections_closed_total{mp_scope="application",code="1008",} 1.0
        base_thread_count 80
        """, "agserver_");
    assertEquals(Map.of("agserver_slow_consumers_total{reason=\"send_timeout\"}", 3.0, "agserver_connections", 12.0,
        "agserver_connections_closed_total{code=\"1008\"}", 1.0), m);
    Map<String, Double> later = new HashMap<>(m);
    later.put("agserver_slow_consumers_total{reason=\"send_timeout\"}", 5.0);
    assertEquals(Map.of("agserver_slow_consumers_total{reason=\"send_timeout\"}", 2L),
        Faults.delta(m, later, "agserver_slow_consumers_total"));
  }
}
