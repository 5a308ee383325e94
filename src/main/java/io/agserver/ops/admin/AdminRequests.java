package io.agserver.ops.admin;

import java.net.URI;
import java.util.Locale;

/**
 * The rules a request to the admin page must meet beyond its password, as functions of its
 * headers (so that they are tested without a servlet container).
 *
 * <p>Why a state-changing request needs more than the password: a browser that was given the
 * password sends it with every request to the page's origin, also one that a page of another site
 * makes it send (a form posted across sites: cross-site request forgery). Such a form cannot set a
 * header of its own, and a script of another origin can only set one after a CORS preflight, which
 * the admin page never approves (the preflight carries no password and gets 401). So a
 * state-changing request must be a POST carrying {@value #GUARD_HEADER}{@code : 1}; and when the
 * browser says where it comes from ({@code Origin}, {@code Sec-Fetch-Site}), that must be the
 * page's own origin.
 */
final class AdminRequests {

  /** The header every state-changing request carries, with the value {@code 1}. */
  static final String GUARD_HEADER = "X-AGServer-Admin";

  private AdminRequests() {}

  /**
   * Why a state-changing request is refused (403), or null when it passes. {@code host} and
   * {@code forwardedHost} are its Host and X-Forwarded-Host headers (a proxy in front may have
   * rewritten Host: the Origin may match either).
   */
  static String csrfRefusal(String guard, String origin, String fetchSite, String host, String forwardedHost) {
    if (!"1".equals(guard == null ? null : guard.strip())) {
      return "A state-changing request needs the header " + GUARD_HEADER + ": 1 (the admin page sends it)";
    }
    if (fetchSite != null && !fetchSite.isBlank()) {
      String site = fetchSite.strip().toLowerCase(Locale.ROOT);
      if (!site.equals("same-origin") && !site.equals("none")) {
        return "A request from another site (Sec-Fetch-Site: " + printable(fetchSite) + ")";
      }
    }
    if (origin != null && !origin.isBlank()) {
      if (!sameAuthority(origin, host) && !sameAuthorityAsAny(origin, forwardedHost)) {
        return "A request from another origin (Origin: " + printable(origin) + ")";
      }
    }
    return null;
  }

  private static boolean sameAuthorityAsAny(String origin, String hosts) {
    if (hosts == null) {
      return false;
    }
    for (String host : hosts.split(",")) {
      if (sameAuthority(origin, host)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether an Origin ({@code scheme://host[:port]}) names the host and port of a Host header
   * ({@code host[:port]}); a missing port is the origin scheme's default on both sides.
   */
  static boolean sameAuthority(String origin, String hostHeader) {
    if (origin == null || hostHeader == null || hostHeader.isBlank()) {
      return false;
    }
    URI uri;
    try {
      uri = URI.create(origin.strip());
    } catch (IllegalArgumentException e) {
      return false;
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (uri.getHost() == null || !(scheme.equals("http") || scheme.equals("https"))) {
      return false;
    }
    int defaultPort = scheme.equals("https") ? 443 : 80;
    int originPort = uri.getPort() < 0 ? defaultPort : uri.getPort();
    String hostPart = hostHeader.strip();
    String name = hostPart;
    int port = defaultPort;
    int colon = hostPart.lastIndexOf(':');
    if (colon > hostPart.lastIndexOf(']')) {
      name = hostPart.substring(0, colon);
      try {
        port = Integer.parseInt(hostPart.substring(colon + 1));
      } catch (NumberFormatException e) {
        return false;
      }
    }
    return port == originPort && name.equalsIgnoreCase(uri.getHost());
  }

  /**
   * Text a client chose (a user name, a channel name), fit for one log line: control characters
   * replaced, at most 200 characters.
   */
  static String printable(String text) {
    if (text == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(Math.min(text.length(), 201));
    for (int i = 0; i < text.length() && out.length() < 200; i++) {
      char c = text.charAt(i);
      out.append(Character.isISOControl(c) || Character.getType(c) == Character.LINE_SEPARATOR
          || Character.getType(c) == Character.PARAGRAPH_SEPARATOR ? '?' : c);
    }
    if (text.length() > 200) {
      out.append('…');
    }
    return out.toString();
  }
}
