package io.agserver;

import java.net.URI;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The HTTP upgrade request that opened a socket: what Node exposes as {@code socket.request}.
 * Header names are case-insensitive.
 */
public final class AGUpgradeRequest {

  private final URI uri;
  private final Map<String, List<String>> headers;
  private final Map<String, List<String>> query;
  private final String remoteAddress;
  private final Integer remotePort;
  private final boolean secure;

  public AGUpgradeRequest(URI uri, Map<String, List<String>> headers, Map<String, List<String>> query,
      String remoteAddress, Integer remotePort, boolean secure) {
    this.uri = uri;
    TreeMap<String, List<String>> sorted = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    if (headers != null) {
      headers.forEach((k, v) -> sorted.merge(k, List.copyOf(v), (a, b) -> {
        List<String> all = new java.util.ArrayList<>(a);
        all.addAll(b);
        return List.copyOf(all);
      }));
    }
    this.headers = Collections.unmodifiableMap(sorted);
    this.query = query == null ? Map.of() : Collections.unmodifiableMap(query);
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
    this.secure = secure;
  }

  public URI uri() {
    return uri;
  }

  public Map<String, List<String>> headers() {
    return headers;
  }

  /** The first value of a header, if present. */
  public Optional<String> header(String name) {
    List<String> values = headers.get(name);
    return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
  }

  public Map<String, List<String>> query() {
    return query;
  }

  /** The first value of a query parameter, if present. */
  public Optional<String> queryParam(String name) {
    List<String> values = query.get(name);
    return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
  }

  /** Cookies of the {@code Cookie} header(s), by name; the first occurrence of a name wins. */
  public Map<String, String> cookies() {
    Map<String, String> cookies = new java.util.LinkedHashMap<>();
    List<String> values = headers.getOrDefault("cookie", List.of());
    for (String header : values) {
      for (String pair : header.split(";")) {
        int eq = pair.indexOf('=');
        if (eq <= 0) {
          continue;
        }
        String name = pair.substring(0, eq).trim();
        String value = pair.substring(eq + 1).trim();
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
          value = value.substring(1, value.length() - 1);
        }
        cookies.putIfAbsent(name, value);
      }
    }
    return cookies;
  }

  /** The {@code Origin} header, if present. */
  public Optional<String> origin() {
    return header("origin");
  }

  /** The peer's address, or null where the container does not expose it. */
  public String remoteAddress() {
    return remoteAddress;
  }

  public Integer remotePort() {
    return remotePort;
  }

  /** The first address of {@code X-Forwarded-For}, if present. */
  public Optional<String> forwardedForAddress() {
    return header("x-forwarded-for").map(v -> v.split(",")[0].trim().toLowerCase(Locale.ROOT));
  }

  public boolean secure() {
    return secure;
  }

  @Override
  public String toString() {
    return "AGUpgradeRequest[" + uri + " from " + remoteAddress + "]";
  }
}
