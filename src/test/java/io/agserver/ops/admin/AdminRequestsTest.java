package io.agserver.ops.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The cross-site request guard of state-changing admin requests, and text fit for the log. */
class AdminRequestsTest {

  @Test
  void theGuardHeaderIsRequired() {
    assertNull(AdminRequests.csrfRefusal("1", null, null, "h", null));
    assertNotNull(AdminRequests.csrfRefusal(null, null, null, "h", null));
    assertNotNull(AdminRequests.csrfRefusal("true", null, null, "h", null));
    assertNotNull(AdminRequests.csrfRefusal("", null, null, "h", null));
  }

  @Test
  void theBrowsersWordOnWhereTheRequestComesFromMustBeThisOrigin() {
    assertNull(AdminRequests.csrfRefusal("1", "http://h:9080", "same-origin", "h:9080", null));
    assertNull(AdminRequests.csrfRefusal("1", null, "none", "h", null));
    assertNotNull(AdminRequests.csrfRefusal("1", null, "cross-site", "h", null));
    assertNotNull(AdminRequests.csrfRefusal("1", null, "same-site", "h", null));
    assertNotNull(AdminRequests.csrfRefusal("1", "https://other:9080", null, "h:9080", null));
    assertNotNull(AdminRequests.csrfRefusal("1", "null", null, "h:9080", null));
    assertNull(AdminRequests.csrfRefusal("1", "https://admin.example", null, "backend:9080",
        "cdn.example, admin.example"));
  }

  @Test
  void anOriginMatchesAHostAndPortWithTheSchemesDefaultPort() {
    assertTrue(AdminRequests.sameAuthority("http://h:9080", "h:9080"));
    assertTrue(AdminRequests.sameAuthority("https://H.example", "h.example:443"));
    assertTrue(AdminRequests.sameAuthority("https://h.example:443", "h.example"));
    assertTrue(AdminRequests.sameAuthority("http://h.example", "h.example"));
    assertTrue(AdminRequests.sameAuthority("http://[::1]:9080", "[::1]:9080"));
    assertFalse(AdminRequests.sameAuthority("http://h.example", "h.example:443"));
    assertFalse(AdminRequests.sameAuthority("http://h:9080", "h:9081"));
    assertFalse(AdminRequests.sameAuthority("http://evil.h:9080", "h:9080"));
    assertFalse(AdminRequests.sameAuthority("ftp://h", "h"));
    assertFalse(AdminRequests.sameAuthority("http://h", "h:x"));
    assertFalse(AdminRequests.sameAuthority("::not a uri", "h"));
    assertFalse(AdminRequests.sameAuthority("http://h", null));
  }

  @Test
  void clientTextIsOneShortLineInTheLog() {
    assertEquals("a?b?c", AdminRequests.printable("a\nb\u2028c"));
    assertEquals("x".repeat(200) + "…", AdminRequests.printable("x".repeat(500)));
    assertEquals("", AdminRequests.printable(null));
  }
}
