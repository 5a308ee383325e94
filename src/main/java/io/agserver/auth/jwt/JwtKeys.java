package io.agserver.auth.jwt;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.security.spec.ECParameterSpec;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

import org.jose4j.keys.EllipticCurves;
import org.jose4j.keys.HmacKey;

import io.agserver.config.AGServerOptions;

/**
 * The keys and algorithms of the server's own tokens, from the options socketcluster-server has:
 * {@code authKey} (an HMAC secret; a random one when unset), or {@code authPrivateKey} with
 * {@code authPublicKey} (PEM, inline or a file path); {@code authAlgorithm} signs (HS256 by
 * default; with a key pair, RS256 or the EC key's ES algorithm when unset); the verification
 * algorithms are {@code authVerifyAlgorithms}, else {@code authAlgorithm}, else every algorithm of
 * the key's family as jsonwebtoken allows by default. A token's header never adds an algorithm,
 * and {@code none} is refused everywhere. Inconsistent options fail at startup: among them RSA
 * keys under 2048 bits and EC keys on a curve other than P-256, P-384 and P-521.
 */
public final class JwtKeys {

  private static final Logger LOG = Logger.getLogger(JwtKeys.class.getName());

  /**
   * The curves of ES256, ES384 and ES512 by the names Node gives them (jsonwebtoken's messages
   * use these), and secp256k1, only to name it in errors: jose4j knows its parameters.
   */
  private static final Map<String, ECParameterSpec> CURVES = new LinkedHashMap<>();

  static {
    CURVES.put("prime256v1", EllipticCurves.P256);
    CURVES.put("secp384r1", EllipticCurves.P384);
    CURVES.put("secp521r1", EllipticCurves.P521);
    CURVES.put("secp256k1", EllipticCurves.SECP256K1);
  }

  static final Set<String> ALGORITHMS = Set.of("HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
      "PS256", "PS384", "PS512", "ES256", "ES384", "ES512");

  private final String signAlgorithm;
  private final Key signingKey;
  private final Key verificationKey;
  private final List<String> verifyAlgorithms;

  private JwtKeys(String signAlgorithm, Key signingKey, Key verificationKey, List<String> verifyAlgorithms) {
    this.signAlgorithm = signAlgorithm;
    this.signingKey = signingKey;
    this.verificationKey = verificationKey;
    this.verifyAlgorithms = List.copyOf(verifyAlgorithms);
  }

  /** The keys the options describe; an IllegalArgumentException naming the option otherwise. */
  public static JwtKeys from(AGServerOptions options) {
    String algorithm = options.authAlgorithm().map(a -> algorithm("authAlgorithm", a)).orElse(null);
    List<String> verify = options.authVerifyAlgorithms().map(JwtKeys::algorithms).orElse(null);
    if (options.authPrivateKey().isPresent()) {
      PrivateKey privateKey = parse("authPrivateKey", options.authPrivateKey().get(), true);
      PublicKey publicKey = parse("authPublicKey", options.authPublicKey().orElseThrow(), false);
      return keyPair(privateKey, publicKey, algorithm, verify);
    }
    String secret = options.authKey().orElseGet(JwtKeys::randomSecret);
    JwtKeys keys = hmac(secret, algorithm, verify);
    if (!Jws.validatesKey(keys.signAlgorithm, keys.signingKey)) {
      // Accepted as jsonwebtoken accepts it (see Jws), but worth a word: it is guessed sooner.
      LOG.warning(AGServerOptions.PREFIX + "authKey has " + keys.signingKey.getEncoded().length * 8
          + " bits, fewer than the " + Jws.hashBits(keys.signAlgorithm) + " that " + keys.signAlgorithm
          + " calls for (RFC 7518 3.2); it is used as socketcluster-server would use it, but a longer key is safer");
    }
    return keys;
  }

  /**
   * An HMAC secret (its UTF-8 bytes, as jsonwebtoken uses a string secret).
   *
   * @param algorithm HS256, HS384 or HS512; null for HS256
   * @param verifyAlgorithms null for {@code algorithm} when given, else HS256, HS384 and HS512
   */
  public static JwtKeys hmac(String secret, String algorithm, List<String> verifyAlgorithms) {
    String sign = algorithm == null ? "HS256" : algorithm("authAlgorithm", algorithm);
    if (!sign.startsWith("HS")) {
      throw new IllegalArgumentException("Invalid value '" + sign + "' for " + AGServerOptions.PREFIX
          + "authAlgorithm: " + sign + " needs authPrivateKey and authPublicKey, and only authKey is set");
    }
    HmacKey key = new HmacKey(secret.getBytes(StandardCharsets.UTF_8));
    List<String> verify = verifyAlgorithms != null ? checked(verifyAlgorithms)
        : algorithm != null ? List.of(sign) : List.of("HS256", "HS384", "HS512");
    return new JwtKeys(sign, key, key, verify);
  }

  /**
   * A key pair: the private key signs, the public key verifies.
   *
   * @param algorithm null for RS256 (RSA) or the EC key's curve's ES algorithm
   * @param verifyAlgorithms null for {@code algorithm} when given, else the key family's algorithms
   */
  public static JwtKeys keyPair(PrivateKey privateKey, PublicKey publicKey, String algorithm,
      List<String> verifyAlgorithms) {
    checkCurve("authPrivateKey", privateKey);
    checkCurve("authPublicKey", publicKey);
    if (publicKey instanceof RSAKey rsa && rsa.getModulus().bitLength() < 2048) {
      // jose4j's minimum for every RSA algorithm (jsonwebtoken checks it only when signing).
      throw new IllegalArgumentException("Invalid value for " + AGServerOptions.PREFIX + "authPublicKey: an RSA key of "
          + rsa.getModulus().bitLength() + " bits, and RS*/PS* need at least 2048");
    }
    String sign = algorithm != null ? algorithm("authAlgorithm", algorithm)
        : privateKey instanceof ECKey ec ? algorithmFor(curveName(ec)) : "RS256";
    checkSigningKey(sign, privateKey);
    List<String> verify = verifyAlgorithms != null ? checked(verifyAlgorithms)
        : algorithm != null ? List.of(sign)
        : publicKey instanceof ECKey ? List.of("ES256", "ES384", "ES512")
        : List.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512");
    JwtKeys keys = new JwtKeys(sign, privateKey, publicKey, verify);
    keys.checkPair();
    return keys;
  }

  public String signAlgorithm() {
    return signAlgorithm;
  }

  public List<String> verifyAlgorithms() {
    return verifyAlgorithms;
  }

  Key signingKey() {
    return signingKey;
  }

  Key verificationKey() {
    return verificationKey;
  }

  // ---- checks ----

  private static String algorithm(String option, String name) {
    String trimmed = name.trim();
    if (trimmed.equalsIgnoreCase("none")) {
      throw new IllegalArgumentException("Invalid value 'none' for " + AGServerOptions.PREFIX + option
          + ": unsigned tokens are never accepted");
    }
    if (!ALGORITHMS.contains(trimmed)) {
      throw new IllegalArgumentException("Invalid value '" + name + "' for " + AGServerOptions.PREFIX + option
          + ": expected one of HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512");
    }
    return trimmed;
  }

  private static List<String> algorithms(String commaSeparated) {
    List<String> out = new ArrayList<>();
    for (String name : commaSeparated.split(",")) {
      if (!name.isBlank()) {
        out.add(algorithm("authVerifyAlgorithms", name));
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("Invalid value '" + commaSeparated + "' for " + AGServerOptions.PREFIX
          + "authVerifyAlgorithms: expected a comma-separated list of algorithms");
    }
    return out;
  }

  private static List<String> checked(List<String> names) {
    List<String> out = new ArrayList<>();
    for (String name : names) {
      out.add(algorithm("authVerifyAlgorithms", name));
    }
    return out;
  }

  private static void checkSigningKey(String algorithm, PrivateKey key) {
    String problem = null;
    if (algorithm.startsWith("HS")) {
      problem = algorithm + " needs authKey, and authPrivateKey/authPublicKey are set";
    } else if (algorithm.startsWith("ES")) {
      if (!(key instanceof ECKey ec)) {
        problem = algorithm + " needs an EC private key";
      } else if (!curveFor(algorithm).equals(curveName(ec))) {
        problem = algorithm + " needs a key on curve " + curveFor(algorithm) + ", and the key is on " + curveName(ec);
      }
    } else if (!(key instanceof RSAKey rsa)) {
      problem = algorithm + " needs an RSA private key";
    } else if (rsa.getModulus().bitLength() < 2048) {
      problem = algorithm + " needs an RSA key of at least 2048 bits, as jsonwebtoken does";
    }
    if (problem != null) {
      throw new IllegalArgumentException("Invalid value '" + algorithm + "' for " + AGServerOptions.PREFIX
          + "authAlgorithm: " + problem);
    }
  }

  /** A token signed with the private key must verify with the public key. */
  private void checkPair() {
    if (!verifyAlgorithms.contains(signAlgorithm)) {
      return;
    }
    String token = Jws.sign(Map.of(), signAlgorithm, signingKey);
    try {
      Jws.verify(token, verificationKey, List.of(signAlgorithm), 0);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(AGServerOptions.PREFIX + "authPublicKey does not verify what "
          + AGServerOptions.PREFIX + "authPrivateKey signs (" + e.getMessage() + ")", e);
    }
  }

  private static <K extends Key> K parse(String option, String value, boolean privateKey) {
    String pem = PemKeys.read(value, AGServerOptions.PREFIX + option);
    try {
      @SuppressWarnings("unchecked")
      K key = (K) (privateKey ? PemKeys.privateKey(pem) : PemKeys.publicKey(pem));
      return key;
    } catch (GeneralSecurityException | RuntimeException e) {
      // RuntimeException too: a key factory may throw one on input it cannot make sense of.
      throw new IllegalArgumentException("Invalid value for " + AGServerOptions.PREFIX + option
          + ": not a usable PEM " + (privateKey ? "private" : "public") + " key (" + e.getMessage() + ")", e);
    }
  }

  /**
   * Node's name of the curve an EC key is on (prime256v1, secp384r1, secp521r1, or secp256k1),
   * by the key's parameters: curve, generator, order and cofactor; null for another curve.
   */
  static String curveName(ECKey key) {
    ECParameterSpec params = key.getParams();
    for (Map.Entry<String, ECParameterSpec> curve : CURVES.entrySet()) {
      ECParameterSpec known = curve.getValue();
      if (params.getCurve().equals(known.getCurve()) && params.getGenerator().equals(known.getGenerator())
          && params.getOrder().equals(known.getOrder()) && params.getCofactor() == known.getCofactor()) {
        return curve.getKey();
      }
    }
    return null;
  }

  /** EC keys must be on one of the ES algorithms' curves. */
  private static void checkCurve(String option, Key key) {
    if (!(key instanceof ECKey ec)) {
      return;
    }
    String curve = curveName(ec);
    if (!"prime256v1".equals(curve) && !"secp384r1".equals(curve) && !"secp521r1".equals(curve)) {
      throw new IllegalArgumentException("Invalid value for " + AGServerOptions.PREFIX + option + ": an EC key on "
          + (curve == null ? "an unsupported curve" : "curve " + curve) + ", and ES256, ES384 and ES512 need "
          + "prime256v1 (P-256), secp384r1 (P-384) or secp521r1 (P-521)");
    }
  }

  static String curveFor(String esAlgorithm) {
    return switch (esAlgorithm) {
      case "ES256" -> "prime256v1";
      case "ES384" -> "secp384r1";
      default -> "secp521r1";
    };
  }

  private static String algorithmFor(String curve) {
    return switch (curve) {
      case "secp384r1" -> "ES384";
      case "secp521r1" -> "ES512";
      default -> "ES256";
    };
  }

  /** Like the original's crypto.randomBytes(32).toString('hex'). */
  private static String randomSecret() {
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }
}
