package io.agserver.loadgen;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * The agserver series of a Prometheus text page ({@code /metrics}): each as its name and labels
 * (without the {@code mp_scope} label MicroProfile Metrics adds), e.g.
 * {@code agserver_slow_consumers_total{reason="send_timeout"}}, with its value.
 */
final class MetricsText {
  private MetricsText() {}

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static Map<String, Double> parse(String text, String prefix) {
    Map<String, Double> out = new TreeMap<>();
    for (String line : text.split("\n")) {
      if (!line.startsWith(prefix)) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      int brace = line.indexOf('{');
      String name;
      if (brace > 0 && brace < space) {
        int close = line.lastIndexOf('}', space);
        StringBuilder labels = new StringBuilder();
        for (String l : line.substring(brace + 1, close).split(",")) {
          if (!l.isEmpty() && !l.startsWith("mp_scope=")) {
            labels.append(labels.length() == 0 ? "" : ",").append(l);
          }
        }
        name = line.substring(0, brace) + (labels.length() == 0 ? "" : "{" + labels + "}");
      } else {
        name = line.substring(0, space).trim();
      }
      try {
        out.merge(name, Double.parseDouble(line.substring(space + 1).trim()), Double::sum);
      } catch (NumberFormatException e) {
        // a timestamp or junk: not a sample we read
      }
    }
    return out;
  }

  /** The page's agserver series, or an empty map when it does not answer 200 (or the URL is empty). */
  static Map<String, Double> scrape(String url) {
    if (url.isEmpty()) {
      return Map.of();
    }
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? parse(r.body(), "agserver_") : Map.of();
    } catch (Exception e) {
      return Map.of();
    }
  }

  /** The sum of the series of {@code name} (all its labels). */
  static double sum(Map<String, Double> m, String name) {
    double s = 0;
    for (Map.Entry<String, Double> e : m.entrySet()) {
      if (e.getKey().equals(name) || e.getKey().startsWith(name + "{")) {
        s += e.getValue();
      }
    }
    return s;
  }

  /** {@code b - a} for every series of {@code b} whose name starts with {@code name}, non-zero ones only. */
  static Map<String, Long> delta(Map<String, Double> a, Map<String, Double> b, String name) {
    Map<String, Long> out = new TreeMap<>();
    for (Map.Entry<String, Double> e : b.entrySet()) {
      if (e.getKey().startsWith(name)) {
        long d = Math.round(e.getValue() - a.getOrDefault(e.getKey(), 0.0));
        if (d != 0) {
          out.put(e.getKey(), d);
        }
      }
    }
    return out;
  }
}
