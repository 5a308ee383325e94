package io.agserver.auth.jwt;

import io.agserver.protocol.AGError;

/**
 * A token refused by a verifier: the kind of failure, for the engine to decide on (is the token
 * perhaps another verifier's?), and the error the client sees, exactly as the original reports
 * it. The engine never looks at the error's text.
 */
final class TokenRejection extends RuntimeException {

  private static final long serialVersionUID = 1L;

  enum Kind {
    /** Not a token this verifier could read: missing, malformed, unsigned, not JSON. */
    MALFORMED,
    /** Five parts: a JWE. The server never issues one; an identity provider may. */
    ENCRYPTED,
    /**
     * Readable, but not signed with the verifier's key and an algorithm it accepts (the
     * algorithm, the key's type or curve, or the signature does not match): another issuer's
     * token, or a forged one.
     */
    NOT_SIGNED_HERE,
    /** Signed here, past its exp (or its token age). */
    EXPIRED,
    /** Signed here, before its nbf. */
    NOT_YET_VALID,
    /** Signed here, with claims the verifier refuses (a bad exp/nbf value, issuer, audience...). */
    INVALID_CLAIMS
  }

  private final Kind kind;
  private final AGError error;

  TokenRejection(Kind kind, AGError error) {
    // No stack trace: a refused token is an expected outcome, and the error carries the story.
    super(error.getMessage(), null, false, false);
    this.kind = kind;
    this.error = error;
  }

  Kind kind() {
    return kind;
  }

  /** What the client sees. */
  AGError error() {
    return error;
  }
}
