package io.agserver.transport;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The origins option: whole entries, each form, and the original's rules for missing origins. */
class OriginPolicyTest {

  @Test
  void allowAllAdmitsAnythingEvenNoOrigin() {
    OriginPolicy policy = new OriginPolicy("*:*");
    assertTrue(policy.allows("https://anything.example:8443"));
    assertTrue(policy.allows(null));
    assertTrue(policy.allows("null"));
    assertTrue(policy.allows("not a uri at all"));
    assertTrue(new OriginPolicy(null).allows("http://x"), "no option means *:*");
    assertTrue(new OriginPolicy("example.com:443 *:*").allows("http://other.org"), "*:* anywhere in the list");
  }

  @Test
  void hostAndPort() {
    OriginPolicy policy = new OriginPolicy("example.com:443");
    assertTrue(policy.allows("https://example.com"));
    assertTrue(policy.allows("https://example.com:443"));
    assertTrue(policy.allows("http://example.com:443"));
    assertTrue(policy.allows("wss://example.com"), "wss defaults to 443");
    assertTrue(policy.allows("https://EXAMPLE.com"), "host names are case-insensitive");
    assertFalse(policy.allows("http://example.com"), "http defaults to 80");
    assertFalse(policy.allows("https://example.com:8443"));
    assertFalse(policy.allows("https://www.example.com"));
  }

  @Test
  void aSuffixOfAnEntryIsNotThatEntry() {
    // The original's indexOf admits these: "example.com:443" contains "ample.com:443".
    OriginPolicy policy = new OriginPolicy("example.com:443");
    assertFalse(policy.allows("https://ample.com:443"));
    assertFalse(policy.allows("https://ample.com"));
    assertFalse(policy.allows("https://e.com"));
    assertFalse(new OriginPolicy("example.com:4430").allows("https://example.com"), "443 is not a prefix match of 4430");
    assertFalse(new OriginPolicy("example.com:*").allows("https://ample.com"));
  }

  @Test
  void hostWithAnyPort() {
    OriginPolicy policy = new OriginPolicy("example.com:*");
    assertTrue(policy.allows("http://example.com"));
    assertTrue(policy.allows("https://example.com:8443"));
    assertFalse(policy.allows("https://other.com"));
    assertFalse(policy.allows(null), "no origin is host *, not example.com");
  }

  @Test
  void anyHostOnAPort() {
    OriginPolicy policy = new OriginPolicy("*:8080");
    assertTrue(policy.allows("http://a.example:8080"));
    assertTrue(policy.allows("https://b.example:8080"));
    assertFalse(policy.allows("http://a.example"));
    assertFalse(policy.allows(null));
  }

  @Test
  void noOriginIsStarOnPort80() {
    OriginPolicy star80 = new OriginPolicy("*:80");
    assertTrue(star80.allows(null));
    assertTrue(star80.allows("null"));
    assertTrue(star80.allows("http://anyone.example"));
    OriginPolicy host80 = new OriginPolicy("example.com:80 localhost:80");
    assertFalse(host80.allows(null), "a host:80 entry does not admit a request without an Origin");
    assertFalse(host80.allows("null"));
    assertTrue(host80.allows("http://localhost"));
  }

  @Test
  void listsSplitOnSpacesAndCommas() {
    OriginPolicy policy = new OriginPolicy(" example.com:443,other.org:*  *:8080 ,\tlocalhost:3000 ");
    assertTrue(policy.allows("https://example.com"));
    assertTrue(policy.allows("http://other.org:1234"));
    assertTrue(policy.allows("http://x.example:8080"));
    assertTrue(policy.allows("http://localhost:3000"));
    assertFalse(policy.allows("http://localhost:3001"));
  }

  @Test
  void anEntryMayCarryASchemeWhichIsIgnoredAsInTheOriginal() {
    OriginPolicy policy = new OriginPolicy("https://example.com:443 http://other.org:*");
    assertTrue(policy.allows("https://example.com"));
    assertTrue(policy.allows("http://example.com:443"));
    assertTrue(policy.allows("https://other.org"));
  }

  @Test
  void ipv6Hosts() {
    OriginPolicy policy = new OriginPolicy("[::1]:8080");
    assertTrue(policy.allows("http://[::1]:8080"));
    assertFalse(policy.allows("http://[::2]:8080"));
  }

  @Test
  void originsThatAreNotUrlsAreRefused() {
    OriginPolicy policy = new OriginPolicy("example.com:*");
    assertFalse(policy.allows("example.com"));
    assertFalse(policy.allows("http://exa mple.com"));
    assertFalse(policy.allows(""));
  }

  @ParameterizedTest
  @ValueSource(strings = {"example.com", "example.com:", ":443", "*.example.com:443", "example.com:https",
      "example.com:70000", "", " , ", "http://example.com/path:80"})
  void malformedEntriesFailNamingTheOption(String origins) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new OriginPolicy(origins));
    assertTrue(e.getMessage().contains("socketcluster.origins"), e.getMessage());
  }
}
