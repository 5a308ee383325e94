package io.agserver.transport;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code origins} option: a list of entries separated by spaces and/or commas, each
 * {@code host:port}, {@code host:*}, {@code *:port} or {@code *:*} (allow all), optionally
 * written with a scheme ({@code https://example.com:443}), which is ignored as the original
 * ignores it. An origin's port is its explicit port, else 443 for https and wss, else 80. A
 * request without an Origin header, or with "null", is origin {@code *} on port 80, as in the
 * original: {@code *:80} admits it, a {@code host:80} entry does not.
 *
 * <p>The original looks for {@code host:port} as a substring of the option's text, so with
 * {@code example.com:443} configured it admits {@code https://ample.com:443} (and
 * {@code https://e.com:443}); entries here match whole, which refuses those.
 */
final class OriginPolicy {

  static final String OPTION = "socketcluster.origins";

  /** One entry; null host or port means "*". */
  private record Entry(String host, Integer port) {
    boolean matches(String originHost, int originPort) {
      return (host == null || host.equals(originHost)) && (port == null || port == originPort);
    }
  }

  private final List<Entry> entries;
  private final boolean allowAll;

  /** @throws IllegalArgumentException naming the option when an entry is not host:port */
  OriginPolicy(String origins) {
    this.entries = parse(origins == null ? "*:*" : origins);
    this.allowAll = entries.stream().anyMatch(e -> e.host() == null && e.port() == null);
  }

  /** A missing or "null" origin is "*", as the original has it. */
  static String normalize(String origin) {
    return origin == null || origin.equals("null") ? "*" : origin;
  }

  boolean allows(String origin) {
    if (allowAll) {
      return true;
    }
    String normalized = normalize(origin);
    String host;
    int port;
    if (normalized.equals("*")) {
      // The original parses "*" as no host and no scheme, so port 80: only "*:80" (or "*:*")
      // matches it.
      host = null;
      port = 80;
    } else {
      try {
        URI uri = URI.create(normalized);
        host = uri.getHost();
        if (host == null) {
          return false;
        }
        host = host.toLowerCase(Locale.ROOT);
        port = uri.getPort() != -1 ? uri.getPort() : defaultPort(uri.getScheme());
      } catch (IllegalArgumentException e) {
        return false;
      }
    }
    for (Entry entry : entries) {
      if (entry.matches(host, port)) {
        return true;
      }
    }
    return false;
  }

  private static int defaultPort(String scheme) {
    return "https".equalsIgnoreCase(scheme) || "wss".equalsIgnoreCase(scheme) ? 443 : 80;
  }

  private static List<Entry> parse(String origins) {
    List<Entry> entries = new ArrayList<>();
    for (String raw : origins.trim().split("[\\s,]+")) {
      if (!raw.isEmpty()) {
        entries.add(entry(raw));
      }
    }
    if (entries.isEmpty()) {
      throw invalid(origins);
    }
    return entries;
  }

  private static Entry entry(String raw) {
    String text = raw;
    int scheme = text.indexOf("://");
    if (scheme >= 0) {
      text = text.substring(scheme + 3);
    }
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw invalid(raw);
    }
    String host = text.substring(0, colon).toLowerCase(Locale.ROOT);
    String port = text.substring(colon + 1);
    // A wildcard is a whole host or a whole port: "*.example.com" never matched in the original.
    if (!host.equals("*") && (host.contains("*") || host.contains("/"))) {
      throw invalid(raw);
    }
    Integer portNumber = null;
    if (!port.equals("*")) {
      try {
        portNumber = Integer.valueOf(port);
      } catch (NumberFormatException e) {
        throw invalid(raw);
      }
      if (portNumber < 0 || portNumber > 65535) {
        throw invalid(raw);
      }
    }
    return new Entry(host.equals("*") ? null : host, portNumber);
  }

  private static IllegalArgumentException invalid(String entry) {
    return new IllegalArgumentException("Invalid value '" + entry + "' for " + OPTION
        + ": expected entries host:port, host:*, *:port or *:* separated by spaces or commas");
  }
}
