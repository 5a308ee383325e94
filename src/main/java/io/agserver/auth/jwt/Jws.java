package io.agserver.auth.jwt;

import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.PublicKey;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import javax.crypto.SecretKey;

import org.jose4j.jwa.AlgorithmConstraints;
import org.jose4j.jwa.AlgorithmConstraints.ConstraintType;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.lang.JoseException;

import io.agserver.auth.jwt.TokenRejection.Kind;
import io.agserver.protocol.AGError;
import io.agserver.codec.JsonCodec;

/**
 * Compact JWS as jsonwebtoken 9 signs and verifies them, signed and verified by jose4j's
 * JsonWebSignature with its key checks.
 *
 * <p>Signing writes jsonwebtoken's bytes: header {"alg":...,"typ":"JWT"} and the claims as
 * JSON.stringify writes them, so the same claims, key and algorithm give the same token as Node
 * (for the deterministic HS*, RS* algorithms).
 *
 * <p>Verification follows jsonwebtoken.verify's order and messages; the algorithm must be one of
 * the configured ones (the header only names which one), and its family must match the key. A
 * refusal is a {@link TokenRejection}: its kind for the engine, the original's error for the
 * client.
 *
 * <p>jose4j's key checks apply (RSA keys of at least 2048 bits, EC keys on the algorithm's
 * curve, HMAC keys of the type HMAC needs) except one: an HMAC secret shorter than the hash
 * output (jose4j's minimum, RFC 7518 section 3.2) is accepted, because jsonwebtoken accepts any
 * secret and socketcluster-server applications configure such authKeys (the conformance suite's
 * is 18 bytes). The server's default authKey, random, is 64 bytes.
 */
final class Jws {

  private static final Pattern JWS_FORMAT =
      Pattern.compile("^[a-zA-Z0-9\\-_]+?\\.[a-zA-Z0-9\\-_]+?\\.([a-zA-Z0-9\\-_]+)?$");
  private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder BASE64URL_DECODER = Base64.getUrlDecoder();

  private Jws() {
  }

  static String sign(Map<String, Object> claims, String algorithm, Key key) {
    Map<String, Object> header = new LinkedHashMap<>(2);
    header.put("alg", algorithm);
    header.put("typ", "JWT");
    JsonCodec codec = JsonCodec.instance();
    try {
      JsonWebSignature jws = new JsonWebSignature();
      // The header as the codec writes it, byte for byte: jose4j encodes this very string.
      jws.getHeaders().setFullHeaderAsJsonString(codec.encode(header));
      jws.setPayloadBytes(codec.encode(claims).getBytes(StandardCharsets.UTF_8));
      jws.setAlgorithmConstraints(new AlgorithmConstraints(ConstraintType.PERMIT, algorithm));
      jws.setKey(key);
      jws.setDoKeyValidation(validatesKey(algorithm, key));
      return jws.getCompactSerialization();
    } catch (JoseException e) {
      throw new IllegalStateException("Cannot sign with " + algorithm + ": " + e.getMessage(), e);
    }
  }

  /**
   * Whether jose4j checks the key: always, except for an HMAC secret shorter than the hash
   * output, which jsonwebtoken (and so socketcluster-server) accepts; see the class comment.
   */
  static boolean validatesKey(String algorithm, Key key) {
    return !(algorithm.startsWith("HS") && key instanceof SecretKey && key.getEncoded() != null
        && key.getEncoded().length * 8 < hashBits(algorithm));
  }

  static int hashBits(String algorithm) {
    return Integer.parseInt(algorithm.substring(2));
  }

  /**
   * The verified payload.
   *
   * @throws TokenRejection carrying the error the socket reports for jsonwebtoken's
   */
  static Map<String, Object> verify(String token, Key key, List<String> algorithms, long nowSeconds) {
    Decoded decoded = decode(token);
    String alg = decoded.header() instanceof Map<?, ?> h && h.get("alg") instanceof String a ? a : null;
    String[] parts = token.split("\\.", -1);
    if (parts[2].trim().isEmpty()) {
      throw new TokenRejection(Kind.MALFORMED, invalid("jwt signature is required"));
    }
    if (alg == null || !algorithms.contains(alg)) {
      throw notSignedHere(invalid("invalid algorithm"));
    }
    checkKey(alg, key);
    if (!signatureMatches(alg, key, token, parts)) {
      throw notSignedHere(invalid("invalid signature"));
    }
    if (!(decoded.payload() instanceof Map)) {
      // jsonwebtoken would hand a string payload on; an auth token is an object.
      throw new TokenRejection(Kind.INVALID_CLAIMS, invalid("invalid token"));
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> payload = (Map<String, Object>) decoded.payload();
    checkTimes(payload, nowSeconds);
    return payload;
  }

  record Decoded(Object header, Object payload) {}

  /** jws.decode as jsonwebtoken calls it, with its errors. */
  static Decoded decode(String token) {
    if (token == null || token.isEmpty()) {
      throw new TokenRejection(Kind.MALFORMED, invalid("jwt must be provided"));
    }
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3) {
      throw new TokenRejection(parts.length == 5 ? Kind.ENCRYPTED : Kind.MALFORMED, invalid("jwt malformed"));
    }
    Object header = JWS_FORMAT.matcher(token).matches() ? parseJson(decodeText(parts[0])) : null;
    if (!isTruthy(header)) {
      throw new TokenRejection(Kind.MALFORMED, invalid("invalid token"));
    }
    String payloadText = decodeText(parts[1]);
    Object payload;
    if (header instanceof Map<?, ?> h && "JWT".equals(h.get("typ"))) {
      payload = parseJson(payloadText);
      if (payload == NOT_JSON) {
        // JSON.parse's SyntaxError, which socketcluster-server reports as an AuthTokenError.
        throw new TokenRejection(Kind.MALFORMED,
            AGError.authToken("Unexpected token in JSON: the token payload is not valid JSON"));
      }
    } else {
      Object parsed = parseJson(payloadText);
      payload = parsed instanceof Map || parsed instanceof List ? parsed : payloadText;
    }
    return new Decoded(header, payload);
  }

  private static void checkKey(String alg, Key key) {
    if (alg.startsWith("HS")) {
      if (!(key instanceof SecretKey)) {
        throw notSignedHere(invalid("secretOrPublicKey must be a symmetric key when using " + alg));
      }
      return;
    }
    if (!(key instanceof PublicKey)) {
      throw notSignedHere(invalid("secretOrPublicKey must be an asymmetric key when using " + alg));
    }
    if (key instanceof ECKey ec) {
      if (!alg.startsWith("ES")) {
        throw notSignedHere(AGError.authToken("\"alg\" parameter for \"ec\" key type must be one of: ES256, ES384, ES512."));
      }
      String wanted = JwtKeys.curveFor(alg);
      if (!wanted.equals(JwtKeys.curveName(ec))) {
        throw notSignedHere(AGError.authToken("\"alg\" parameter \"" + alg + "\" requires curve \"" + wanted + "\"."));
      }
    } else if (key instanceof RSAKey && alg.startsWith("ES")) {
      throw notSignedHere(AGError.authToken(
          "\"alg\" parameter for \"rsa\" key type must be one of: RS256, PS256, RS384, PS384, RS512, PS512."));
    }
  }

  private static boolean signatureMatches(String alg, Key key, String token, String[] parts) {
    if (alg.startsWith("HS") && !isCanonicalBase64url(parts[2])) {
      // jwa compares the base64url texts of HMACs, so only the canonical encoding matches.
      return false;
    }
    if (alg.startsWith("ES")) {
      int size = switch (alg) {
        case "ES256" -> 64;
        case "ES384" -> 96;
        default -> 132;
      };
      int length = signatureLength(parts[2]);
      if (length >= 0 && length != size) {
        // ecdsa-sig-formatter's error, which jsonwebtoken lets through as is.
        throw notSignedHere(AGError.authToken("\"" + alg + "\" signatures must be \"" + size + "\" bytes, saw \""
            + length + "\""));
      }
    }
    try {
      JsonWebSignature jws = new JsonWebSignature();
      jws.setAlgorithmConstraints(new AlgorithmConstraints(ConstraintType.PERMIT, alg));
      jws.setCompactSerialization(token);
      jws.setKey(key);
      jws.setDoKeyValidation(validatesKey(alg, key));
      return jws.verifySignature();
    } catch (JoseException | IllegalArgumentException e) {
      // Not verifiable with this key (jose4j's key checks included): not our signature.
      return false;
    }
  }

  private static boolean isCanonicalBase64url(String text) {
    try {
      return BASE64URL.encodeToString(BASE64URL_DECODER.decode(text)).equals(text);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** The signature's length in bytes, or -1 when it is not base64url. */
  private static int signatureLength(String base64url) {
    try {
      return BASE64URL_DECODER.decode(base64url).length;
    } catch (IllegalArgumentException e) {
      return -1;
    }
  }

  private static void checkTimes(Map<String, Object> payload, long now) {
    if (payload.containsKey("nbf")) {
      if (!(payload.get("nbf") instanceof Number nbf)) {
        throw new TokenRejection(Kind.INVALID_CLAIMS, invalid("invalid nbf value"));
      }
      if (nbf.doubleValue() > now) {
        throw new TokenRejection(Kind.NOT_YET_VALID,
            AGError.authTokenNotBefore("jwt not active", null).with("date", date(nbf)));
      }
    }
    if (payload.containsKey("exp")) {
      if (!(payload.get("exp") instanceof Number exp)) {
        throw new TokenRejection(Kind.INVALID_CLAIMS, invalid("invalid exp value"));
      }
      if (now >= exp.doubleValue()) {
        throw new TokenRejection(Kind.EXPIRED,
            AGError.authTokenExpired("jwt expired", null).with("expiry", date(exp)));
      }
    }
  }

  /** new Date(seconds * 1000) as JSON shows it: an Instant, or null for an invalid date. */
  static Instant date(Number seconds) {
    double millis = seconds.doubleValue() * 1000;
    if (Double.isNaN(millis) || Math.abs(millis) > 8.64e15) {
      return null;
    }
    return Instant.ofEpochMilli((long) millis);
  }

  static AGError invalid(String message) {
    return AGError.authTokenInvalid(message);
  }

  private static TokenRejection notSignedHere(AGError error) {
    return new TokenRejection(Kind.NOT_SIGNED_HERE, error);
  }

  private static final Object NOT_JSON = new Object();

  /** JSON.parse: the value, or NOT_JSON. */
  private static Object parseJson(String text) {
    if (text == null) {
      return NOT_JSON;
    }
    // The codec reads documents that are objects or arrays; wrapping reads any JSON value.
    Object wrapped = JsonCodec.instance().decode("[" + text + "]");
    return wrapped instanceof List<?> list && list.size() == 1 ? list.get(0) : NOT_JSON;
  }

  private static boolean isTruthy(Object value) {
    if (value == null || value == NOT_JSON || Boolean.FALSE.equals(value) || "".equals(value)) {
      return false;
    }
    return !(value instanceof Number n) || (n.doubleValue() != 0 && !Double.isNaN(n.doubleValue()));
  }

  private static String decodeText(String base64url) {
    try {
      return new String(BASE64URL_DECODER.decode(base64url), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

}
