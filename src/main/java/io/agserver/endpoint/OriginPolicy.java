package io.agserver.endpoint;

import java.net.URI;

/**
 * The {@code origins} option as the original reads it: {@code *:*} allows all; otherwise an
 * origin is allowed when the option's text contains {@code host:port}, {@code host:*} or
 * {@code *:port} (port 443 for https origins, 80 otherwise).
 */
final class OriginPolicy {

  private final String origins;
  private final boolean allowAll;

  OriginPolicy(String origins) {
    this.origins = origins == null ? "*:*" : origins;
    this.allowAll = this.origins.contains("*:*");
  }

  /** A missing or "null" origin is "*", as the original has it. */
  static String normalize(String origin) {
    return origin == null || origin.equals("null") ? "*" : origin;
  }

  boolean allows(String origin) {
    if (allowAll) {
      return true;
    }
    try {
      URI uri = URI.create(normalize(origin));
      String host = uri.getHost();
      if (host == null) {
        return false;
      }
      int port = uri.getPort() != -1 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
      return origins.contains(host + ":" + port) || origins.contains(host + ":*") || origins.contains("*:" + port);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
