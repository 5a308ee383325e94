package io.agserver.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * One scrape of a Prometheus text endpoint (format 0.0.4, as {@code /metrics} serves it): each
 * sample by its name and labels, the runtime's {@code mp_scope} label left out, labels in name
 * order ({@code agserver_connections_closed_total{code="1000"}}); and each family's {@code TYPE}.
 */
record Prometheus(String contentType, Map<String, Double> samples, Map<String, String> types) {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** GET {@code url}; fails unless it answers 200. */
  static Prometheus scrape(URI url) throws IOException, InterruptedException {
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(30)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new AssertionError("GET " + url + ": " + response.statusCode() + " " + response.body());
    }
    return parse(response.headers().firstValue("Content-Type").orElse(""), response.body());
  }

  static Prometheus parse(String contentType, String text) {
    Map<String, Double> samples = new LinkedHashMap<>();
    Map<String, String> types = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      line = line.strip();
      if (line.isEmpty()) {
        continue;
      }
      if (line.startsWith("#")) {
        String[] parts = line.split("\\s+", 4);
        if (parts.length >= 4 && parts[1].equals("TYPE")) {
          types.put(parts[2], parts[3]);
        }
        continue;
      }
      int brace = line.indexOf('{');
      int space = line.lastIndexOf(' ');
      String name;
      Map<String, String> labels = new TreeMap<>();
      if (brace >= 0 && brace < space) {
        name = line.substring(0, brace);
        int end = line.lastIndexOf('}');
        parseLabels(line.substring(brace + 1, end), labels);
      } else {
        name = line.substring(0, space);
      }
      labels.remove("mp_scope");
      samples.put(key(name, labels), Double.parseDouble(line.substring(space + 1)));
    }
    return new Prometheus(contentType, samples, types);
  }

  /** {@code a="x",b="y",} (a trailing comma or not; no escaped quotes in what agserver exports). */
  private static void parseLabels(String text, Map<String, String> labels) {
    int i = 0;
    while (i < text.length()) {
      int equals = text.indexOf('=', i);
      if (equals < 0) {
        return;
      }
      int open = text.indexOf('"', equals);
      int close = text.indexOf('"', open + 1);
      labels.put(text.substring(i, equals).strip(), text.substring(open + 1, close));
      i = close + 1;
      while (i < text.length() && (text.charAt(i) == ',' || text.charAt(i) == ' ')) {
        i++;
      }
    }
  }

  /** The key of a sample: {@code name} alone, or {@code name{a="x",b="y"}} for labels given as a, x, b, y. */
  static String key(String name, String... labelPairs) {
    Map<String, String> labels = new TreeMap<>();
    for (int i = 0; i + 1 < labelPairs.length; i += 2) {
      labels.put(labelPairs[i], labelPairs[i + 1]);
    }
    return key(name, labels);
  }

  private static String key(String name, Map<String, String> labels) {
    if (labels.isEmpty()) {
      return name;
    }
    StringBuilder key = new StringBuilder(name).append('{');
    labels.forEach((label, value) -> key.append(label).append("=\"").append(value).append("\","));
    key.setLength(key.length() - 1);
    return key.append('}').toString();
  }

  /** The sample's value; 0 when it is not there (a counter nothing has added to yet, or a tag not seen). */
  double value(String name, String... labelPairs) {
    return samples.getOrDefault(key(name, labelPairs), 0.0);
  }

  boolean has(String name, String... labelPairs) {
    return samples.containsKey(key(name, labelPairs));
  }

  @Override
  public String toString() {
    StringBuilder text = new StringBuilder();
    samples.forEach((key, value) -> {
      if (key.startsWith("agserver_")) {
        text.append(key).append(' ').append(value).append('\n');
      }
    });
    return text.length() > 0 ? text.toString() : Arrays.toString(samples.keySet().toArray());
  }
}
