package io.agserver.auth;

import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.MessageDigest;
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

import org.jose4j.jca.ProviderContext;
import org.jose4j.jwa.AlgorithmFactoryFactory;
import org.jose4j.jws.JsonWebSignatureAlgorithm;
import org.jose4j.lang.JoseException;

import io.agserver.protocol.AGError;
import io.agserver.protocol.JsonCodec;

/**
 * Compact JWS as jsonwebtoken 9 signs and verifies them, with jose4j's signature algorithms.
 *
 * <p>Signing writes jsonwebtoken's bytes: header {"alg":...,"typ":"JWT"} and the claims as
 * JSON.stringify writes them, so the same claims, key and algorithm give the same token as Node
 * (for the deterministic HS*, RS* algorithms).
 *
 * <p>Verification follows jsonwebtoken.verify's order and messages; the algorithm must be one of
 * the configured ones (the header only names which one), and its family must match the key.
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
    String input = base64url(codec.encode(header)) + "." + base64url(codec.encode(claims));
    try {
      JsonWebSignatureAlgorithm jwa = jwa(algorithm);
      byte[] signature = jwa.sign(jwa.prepareForSign(key, new ProviderContext()), ascii(input));
      return input + "." + BASE64URL.encodeToString(signature);
    } catch (JoseException e) {
      throw new IllegalStateException("Cannot sign with " + algorithm + ": " + e.getMessage(), e);
    }
  }

  /** The verified payload, or an AGError as the socket reports it for jsonwebtoken's errors. */
  static Map<String, Object> verify(String token, Key key, List<String> algorithms, long nowSeconds) {
    Decoded decoded = decode(token);
    String alg = decoded.header() instanceof Map<?, ?> h && h.get("alg") instanceof String a ? a : null;
    String[] parts = token.split("\\.", -1);
    if (parts[2].trim().isEmpty()) {
      throw invalid("jwt signature is required");
    }
    if (alg == null || !algorithms.contains(alg)) {
      throw invalid("invalid algorithm");
    }
    checkKey(alg, key);
    if (!signatureMatches(alg, key, parts)) {
      throw invalid("invalid signature");
    }
    if (!(decoded.payload() instanceof Map)) {
      // jsonwebtoken would hand a string payload on; an auth token is an object.
      throw invalid("invalid token");
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
      throw invalid("jwt must be provided");
    }
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3) {
      throw invalid("jwt malformed");
    }
    Object header = JWS_FORMAT.matcher(token).matches() ? parseJson(decodeText(parts[0])) : null;
    if (!isTruthy(header)) {
      throw invalid("invalid token");
    }
    String payloadText = decodeText(parts[1]);
    Object payload;
    if (header instanceof Map<?, ?> h && "JWT".equals(h.get("typ"))) {
      payload = parseJson(payloadText);
      if (payload == NOT_JSON) {
        // JSON.parse's SyntaxError, which socketcluster-server reports as an AuthTokenError.
        throw AGError.authToken("Unexpected token in JSON: the token payload is not valid JSON");
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
        throw invalid("secretOrPublicKey must be a symmetric key when using " + alg);
      }
      return;
    }
    if (!(key instanceof PublicKey)) {
      throw invalid("secretOrPublicKey must be an asymmetric key when using " + alg);
    }
    if (key instanceof ECKey ec) {
      if (!alg.startsWith("ES")) {
        throw AGError.authToken("\"alg\" parameter for \"ec\" key type must be one of: ES256, ES384, ES512.");
      }
      String curve = JwtKeys.curveName(ec);
      String wanted = JwtKeys.curveFor(alg);
      if (!wanted.equals(curve)) {
        throw AGError.authToken("\"alg\" parameter \"" + alg + "\" requires curve \"" + wanted + "\".");
      }
    } else if (key instanceof RSAKey && alg.startsWith("ES")) {
      throw AGError.authToken(
          "\"alg\" parameter for \"rsa\" key type must be one of: RS256, PS256, RS384, PS384, RS512, PS512.");
    }
  }

  private static boolean signatureMatches(String alg, Key key, String[] parts) {
    byte[] input = ascii(parts[0] + "." + parts[1]);
    try {
      JsonWebSignatureAlgorithm jwa = jwa(alg);
      if (alg.startsWith("HS")) {
        // jwa compares the base64url texts, so only the canonical encoding matches.
        byte[] expected = jwa.sign(jwa.prepareForSign(key, new ProviderContext()), input);
        return MessageDigest.isEqual(ascii(BASE64URL.encodeToString(expected)), ascii(parts[2]));
      }
      byte[] signature = BASE64URL_DECODER.decode(parts[2]);
      if (alg.startsWith("ES")) {
        int size = switch (alg) {
          case "ES256" -> 64;
          case "ES384" -> 96;
          default -> 132;
        };
        if (signature.length != size) {
          throw AGError.authToken("\"" + alg + "\" signatures must be \"" + size + "\" bytes, saw \""
              + signature.length + "\"");
        }
      }
      return jwa.verifySignature(signature, key, input, new ProviderContext());
    } catch (JoseException | IllegalArgumentException e) {
      return false;
    }
  }

  private static void checkTimes(Map<String, Object> payload, long now) {
    if (payload.containsKey("nbf")) {
      if (!(payload.get("nbf") instanceof Number nbf)) {
        throw invalid("invalid nbf value");
      }
      if (nbf.doubleValue() > now) {
        throw AGError.authTokenNotBefore("jwt not active", null).with("date", date(nbf));
      }
    }
    if (payload.containsKey("exp")) {
      if (!(payload.get("exp") instanceof Number exp)) {
        throw invalid("invalid exp value");
      }
      if (now >= exp.doubleValue()) {
        throw AGError.authTokenExpired("jwt expired", null).with("expiry", date(exp));
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

  private static JsonWebSignatureAlgorithm jwa(String algorithm) throws JoseException {
    return AlgorithmFactoryFactory.getInstance().getJwsAlgorithmFactory().getAlgorithm(algorithm);
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

  private static String base64url(String text) {
    return BASE64URL.encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }
}
