package io.agserver.ops.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import org.junit.jupiter.api.Test;

/** HTTP Basic credentials against the admin password (RFC 7617). */
class AdminCredentialsTest {

  private final AdminCredentials credentials = new AdminCredentials("pa:ss wörd");

  @Test
  void thePasswordWithAnyUserNameIsAccepted() {
    assertEquals(new AdminCredentials.Accepted("ops"), credentials.check(AdminPageTest.basic("ops", "pa:ss wörd")));
    assertEquals(new AdminCredentials.Accepted(""), credentials.check(AdminPageTest.basic("", "pa:ss wörd")));
    // The scheme's name is case-insensitive.
    assertEquals(new AdminCredentials.Accepted("x"),
        credentials.check("basic " + AdminPageTest.basic("x", "pa:ss wörd").substring(6)));
  }

  @Test
  void anyOtherPasswordIsWrongAndNamesItsUser() {
    assertEquals(new AdminCredentials.Wrong("ops"), credentials.check(AdminPageTest.basic("ops", "pa:ss")));
    assertEquals(new AdminCredentials.Wrong("ops"), credentials.check(AdminPageTest.basic("ops", "pa:ss wörd ")));
    assertEquals(new AdminCredentials.Wrong("ops"), credentials.check(AdminPageTest.basic("ops", "")));
    // (The user name ends at the first colon: the rest is the password.)
    assertEquals(new AdminCredentials.Wrong("pa"), credentials.check(AdminPageTest.basic("pa", "ss wörd")));
  }

  @Test
  void credentialsThatDoNotParseAreWrongAndOtherSchemesAreNone() {
    assertInstanceOf(AdminCredentials.Wrong.class, credentials.check("Basic !!!"));
    assertInstanceOf(AdminCredentials.Wrong.class, credentials.check("Basic bm9jb2xvbg=="));
    assertInstanceOf(AdminCredentials.Wrong.class, credentials.check("Basic " + "A".repeat(5000)));
    assertInstanceOf(AdminCredentials.Missing.class, credentials.check(null));
    assertInstanceOf(AdminCredentials.Missing.class, credentials.check(""));
    assertInstanceOf(AdminCredentials.Missing.class, credentials.check("Bearer pa:ss wörd"));
    assertInstanceOf(AdminCredentials.Missing.class, credentials.check("Basic"));
  }
}
