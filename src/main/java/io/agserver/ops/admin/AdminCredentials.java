package io.agserver.ops.admin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;

/**
 * Checks the HTTP Basic credentials of a request against {@code socketcluster.admin.password}.
 *
 * <p>Only a SHA-256 digest of the password is kept, and a given password is compared by its digest
 * with {@link MessageDigest#isEqual}, which takes the same time wherever the two differ: the time
 * of an answer tells nothing about how much of a guess was right, nor (digests being of one
 * length) how long the password is. The user name is not checked: it names the operator in the
 * log.
 */
final class AdminCredentials {

  /** What a request's {@code Authorization} header amounts to. */
  sealed interface Check {}

  /** No Basic credentials at all (a browser's first request, before it asks its user). */
  record Missing() implements Check {}

  /** Credentials with another password, or a header that does not parse as Basic credentials. */
  record Wrong(String user) implements Check {}

  /** The password; {@code user} is the name given with it (possibly empty). */
  record Accepted(String user) implements Check {}

  private static final int MAX_HEADER = 4096;

  private final byte[] digest;

  AdminCredentials(String password) {
    this.digest = sha256(password);
  }

  Check check(String authorization) {
    if (authorization == null || authorization.isBlank()) {
      return new Missing();
    }
    String header = authorization.strip();
    int space = header.indexOf(' ');
    if (space < 0 || !header.substring(0, space).toLowerCase(Locale.ROOT).equals("basic")) {
      // Another scheme (Bearer ...): not an attempt at this password.
      return new Missing();
    }
    if (header.length() > MAX_HEADER) {
      return new Wrong("");
    }
    String decoded;
    try {
      decoded = new String(Base64.getDecoder().decode(header.substring(space + 1).strip()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException notBase64) {
      return new Wrong("");
    }
    int colon = decoded.indexOf(':');
    if (colon < 0) {
      return new Wrong("");
    }
    String user = decoded.substring(0, colon);
    boolean matches = MessageDigest.isEqual(digest, sha256(decoded.substring(colon + 1)));
    return matches ? new Accepted(user) : new Wrong(user);
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing", e);
    }
  }
}
