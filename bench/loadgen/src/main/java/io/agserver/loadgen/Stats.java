package io.agserver.loadgen;

import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** Latency histograms in microseconds, reported in milliseconds. */
final class Stats {
  private Stats() {}

  static Histogram histogram() {
    return new Histogram(1, 120_000_000L, 3);
  }

  static double ms(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? Double.NaN : round3(h.getValueAtPercentile(percentile) / 1000.0);
  }

  static Map<String, Object> summary(Histogram h) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("count", h.getTotalCount());
    m.put("p50Ms", ms(h, 50));
    m.put("p90Ms", ms(h, 90));
    m.put("p99Ms", ms(h, 99));
    m.put("p999Ms", ms(h, 99.9));
    m.put("maxMs", h.getTotalCount() == 0 ? Double.NaN : round3(h.getMaxValue() / 1000.0));
    m.put("meanMs", h.getTotalCount() == 0 ? Double.NaN : round3(h.getMean() / 1000.0));
    return m;
  }

  static double round3(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  static double round1(double v) {
    return Math.round(v * 10) / 10.0;
  }
}
