package io.agserver.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class ClientAddressTest {

  @Test
  void theProxysEntryCountsOnlyWhenItIsAnIpLiteral() {
    assertEquals("203.0.113.9", ClientAddress.of("10.0.0.1", "X-Forwarded-For", List.of("1.2.3.4, 203.0.113.9")));
    assertEquals("2001:db8::7", ClientAddress.of("10.0.0.1", "X-Forwarded-For", List.of("2001:db8::7")));
    assertEquals("[2001:db8::7]", ClientAddress.of("10.0.0.1", "X-Forwarded-For", List.of("[2001:db8::7]")));
    // A value a client made up past the proxy: a name, a port, junk, 30 KB of it.
    for (String junk : List.of("evil.example.com", "203.0.113.9:4000", "999.1.1.1", "1.2.3", "x".repeat(30_000),
        ":::::::::", "1:2:3:4:5:6:7:8:9", "unknown")) {
      assertEquals("10.0.0.1", ClientAddress.of("10.0.0.1", "X-Forwarded-For", List.of(junk)), junk);
    }
    assertEquals("10.0.0.1", ClientAddress.of("10.0.0.1", null, List.of("203.0.113.9")), "no header configured");
    assertEquals("10.0.0.1", ClientAddress.of("10.0.0.1", "X-Forwarded-For", null));
  }

  @Test
  void anIpv6AddressCountsAsItsSlash64AndAnIpv4OneAsItself() {
    assertEquals("2001:db8:0:1::/64", ClientAddress.block("2001:db8:0:1:aaaa:bbbb:cccc:dddd"));
    assertEquals("2001:db8:0:1::/64", ClientAddress.block("2001:0db8:0000:0001::5"));
    assertEquals("2001:db8:0:1::/64", ClientAddress.block("[2001:db8:0:1::6]"));
    assertEquals("0:0:0:0::/64", ClientAddress.block("::1"));
    assertEquals("203.0.113.9", ClientAddress.block("203.0.113.9"));
    assertEquals("::ffff:203.0.113.9", ClientAddress.block("::ffff:203.0.113.9"), "an IPv4 tail: as it is");
    assertTrue(ClientAddress.isIpLiteral("fe80::1"));
    assertFalse(ClientAddress.isIpLiteral("fe80::g"));
  }
}
