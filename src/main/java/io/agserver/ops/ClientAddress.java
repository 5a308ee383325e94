package io.agserver.ops;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The address a client counts under, for the connection limits and the admin page's throttle of
 * wrong passwords: the connection's own, or, behind a proxy ({@code socketcluster.clientAddressHeader}),
 * the last entry of the header's last value (the one the proxy next to this server wrote; entries
 * before it came from the client and could be anything). An entry that is not an IP literal is
 * ignored: a client that reaches the server past the proxy could otherwise pick a new "address"
 * for each attempt, or a 30 KB one.
 */
public final class ClientAddress {

  /** The longest IPv6 text form (an IPv4 tail included), brackets aside. */
  private static final int MAX_LENGTH = 45;
  private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
  private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+");

  private ClientAddress() {}

  /**
   * @param remoteAddress the connection's own address
   * @param header        the proxy's header, or null for none
   * @param headerValues  that header's values on the request (null or empty: none)
   */
  public static String of(String remoteAddress, String header, List<String> headerValues) {
    if (header != null && headerValues != null) {
      for (int i = headerValues.size() - 1; i >= 0; i--) {
        String value = headerValues.get(i);
        if (value == null) {
          continue;
        }
        String last = value.substring(value.lastIndexOf(',') + 1).trim();
        if (last.isEmpty()) {
          continue;
        }
        return isIpLiteral(last) ? last : remoteAddress;
      }
    }
    return remoteAddress;
  }

  /** Whether {@code text} is an IPv4 or IPv6 address as text (brackets allowed around IPv6). */
  static boolean isIpLiteral(String text) {
    String address = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
    if (address.isEmpty() || address.length() > MAX_LENGTH) {
      return false;
    }
    var v4 = IPV4.matcher(address);
    if (v4.matches()) {
      for (int g = 1; g <= 4; g++) {
        if (Integer.parseInt(v4.group(g)) > 255) {
          return false;
        }
      }
      return true;
    }
    // IPv6: two to seven colons (host:port has one), and a dotted tail only as a whole IPv4 one.
    long colons = address.chars().filter(c -> c == ':').count();
    if (colons < 2 || colons > 7 || !IPV6.matcher(address).matches()) {
      return false;
    }
    String tail = address.substring(address.lastIndexOf(':') + 1);
    return tail.indexOf('.') < 0 || isIpLiteral(tail) && tail.indexOf(':') < 0;
  }

  /**
   * The block an address belongs to when counting attempts: an IPv6 address's /64 (one host is
   * commonly given a whole /64, and could use a new address for every attempt), an IPv4 address
   * itself.
   */
  public static String block(String address) {
    String a = address.startsWith("[") && address.endsWith("]") ? address.substring(1, address.length() - 1) : address;
    if (a.indexOf(':') < 0 || a.indexOf('.') >= 0) {
      return address;
    }
    String[] groups = expand(a);
    return groups == null ? address : String.join(":", groups[0], groups[1], groups[2], groups[3]) + "::/64";
  }

  /** The eight groups of an IPv6 address without an IPv4 tail, or null when it is not one. */
  private static String[] expand(String a) {
    int gap = a.indexOf("::");
    String[] head;
    String[] tail;
    if (gap >= 0) {
      if (a.indexOf("::", gap + 1) >= 0) {
        return null;
      }
      head = a.substring(0, gap).isEmpty() ? new String[0] : a.substring(0, gap).split(":", -1);
      tail = a.substring(gap + 2).isEmpty() ? new String[0] : a.substring(gap + 2).split(":", -1);
    } else {
      head = a.split(":", -1);
      tail = new String[0];
    }
    if (head.length + tail.length > (gap >= 0 ? 7 : 8) || (gap < 0 && head.length != 8)) {
      return null;
    }
    String[] groups = new String[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = "0";
    }
    for (int i = 0; i < head.length; i++) {
      groups[i] = normal(head[i]);
    }
    for (int i = 0; i < tail.length; i++) {
      groups[8 - tail.length + i] = normal(tail[i]);
    }
    for (String g : groups) {
      if (g == null) {
        return null;
      }
    }
    return groups;
  }

  private static String normal(String group) {
    if (group.isEmpty() || group.length() > 4) {
      return null;
    }
    try {
      return Integer.toHexString(Integer.parseInt(group, 16));
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
