package io.agserver.auth.jwt;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keys in the PEM forms Node's crypto.createPrivateKey / createPublicKey read, which is what
 * socketcluster-server users have: PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY"), SEC1
 * ("EC PRIVATE KEY"), SPKI ("PUBLIC KEY"), PKCS#1 ("RSA PUBLIC KEY") and X.509 certificates.
 * Encrypted private keys are not supported.
 */
final class PemKeys {

  private static final Pattern BLOCK = Pattern.compile(
      "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*)-----END \\1-----");
  // 1.2.840.113549.1.1.1 rsaEncryption, 1.2.840.10045.2.1 id-ecPublicKey
  private static final byte[] RSA_ALGORITHM = hex("300d06092a864886f70d0101010500");
  private static final byte[] EC_PUBLIC_KEY_OID = hex("06072a8648ce3d0201");

  private PemKeys() {
  }

  /**
   * A PEM value as configured: the PEM itself (a literal "\n" counts as a line break, for
   * environment variables), or the path of a file holding it ("file:" prefix optional).
   */
  static String read(String value, String optionName) {
    String text = value.replace("\\n", "\n").trim();
    if (text.contains("-----BEGIN")) {
      return text;
    }
    Path path = Path.of(text.startsWith("file:") ? text.substring("file:".length()) : text);
    try {
      return Files.readString(path, StandardCharsets.US_ASCII);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("Invalid value for " + optionName
          + ": expected a PEM key or the path of a file holding one, and " + path + " cannot be read (" + e + ")", e);
    }
  }

  static PrivateKey privateKey(String pem) throws GeneralSecurityException {
    Block block = block(pem);
    byte[] pkcs8 = switch (block.type()) {
      case "PRIVATE KEY" -> block.der();
      case "RSA PRIVATE KEY" -> sequence(integer0(), RSA_ALGORITHM, octetString(block.der()));
      case "EC PRIVATE KEY" -> sequence(integer0(),
          sequence(EC_PUBLIC_KEY_OID, curveOf(block.der())), octetString(block.der()));
      case "ENCRYPTED PRIVATE KEY" -> throw new GeneralSecurityException("encrypted private keys are not supported");
      default -> throw new GeneralSecurityException("a PEM " + block.type() + " is not a private key");
    };
    GeneralSecurityException last = null;
    for (String algorithm : new String[] {"RSA", "EC", "RSASSA-PSS"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
      } catch (GeneralSecurityException e) {
        last = e;
      }
    }
    throw last;
  }

  static PublicKey publicKey(String pem) throws GeneralSecurityException {
    Block block = block(pem);
    byte[] spki = switch (block.type()) {
      case "PUBLIC KEY" -> block.der();
      case "RSA PUBLIC KEY" -> sequence(RSA_ALGORITHM, bitString(block.der()));
      case "CERTIFICATE" -> {
        InputStream in = new ByteArrayInputStream(block.der());
        yield CertificateFactory.getInstance("X.509").generateCertificate(in).getPublicKey().getEncoded();
      }
      default -> throw new GeneralSecurityException("a PEM " + block.type() + " is not a public key");
    };
    return publicKeyFromSpki(spki);
  }

  /** A DER SubjectPublicKeyInfo (also a PEM body without its armor). */
  static PublicKey publicKeyFromSpki(byte[] spki) throws GeneralSecurityException {
    GeneralSecurityException last = null;
    for (String algorithm : new String[] {"RSA", "EC", "RSASSA-PSS"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(spki));
      } catch (GeneralSecurityException e) {
        last = e;
      }
    }
    throw last;
  }

  private record Block(String type, byte[] der) {}

  private static Block block(String pem) throws GeneralSecurityException {
    Matcher m = BLOCK.matcher(pem);
    if (!m.find()) {
      throw new GeneralSecurityException("no PEM block found");
    }
    try {
      return new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2)));
    } catch (IllegalArgumentException e) {
      throw new GeneralSecurityException("the PEM " + m.group(1) + " is not valid base64", e);
    }
  }

  /**
   * The named curve of a SEC1 ECPrivateKey: its [0] parameters, a whole OID TLV. Every length is
   * checked against the input, so malformed DER is a GeneralSecurityException, never a read
   * past the end.
   */
  static byte[] curveOf(byte[] sec1) throws GeneralSecurityException {
    // ECPrivateKey ::= SEQUENCE { version INTEGER, privateKey OCTET STRING,
    //                             [0] ECParameters OPTIONAL, [1] BIT STRING OPTIONAL }
    Der outer = new Der(sec1, 0, sec1.length);
    Der key = outer.nested(0x30);
    outer.end();
    key.skip(0x02);
    key.skip(0x04);
    while (key.hasMore()) {
      int tag = key.peekTag();
      Der field = key.nested(tag);
      if (tag == 0xa0) {
        int start = field.pos;
        field.skip(0x06);
        field.end();
        return Arrays.copyOfRange(sec1, start, field.pos);
      }
    }
    throw new GeneralSecurityException("the EC private key does not name its curve");
  }

  /** A bounds-checked reader of the DER elements in der[pos, limit). */
  private static final class Der {
    private final byte[] der;
    private final int limit;
    private int pos;

    Der(byte[] der, int pos, int limit) {
      this.der = der;
      this.pos = pos;
      this.limit = limit;
    }

    boolean hasMore() {
      return pos < limit;
    }

    int peekTag() throws GeneralSecurityException {
      if (pos >= limit) {
        throw malformed("truncated");
      }
      return der[pos] & 0xff;
    }

    /** The content of the next element, which must have this tag, as a reader of its own. */
    Der nested(int tag) throws GeneralSecurityException {
      int length = header(tag);
      Der content = new Der(der, pos, pos + length);
      pos += length;
      return content;
    }

    void skip(int tag) throws GeneralSecurityException {
      int length = header(tag);
      pos += length;
    }

    void end() throws GeneralSecurityException {
      if (pos != limit) {
        throw malformed("unexpected bytes after an element");
      }
    }

    /** Reads a tag and a length; the content must fit before the limit. */
    private int header(int tag) throws GeneralSecurityException {
      int actual = peekTag();
      if (actual != tag) {
        throw malformed(String.format("expected tag 0x%02x, found 0x%02x", tag, actual));
      }
      pos++;
      if (pos >= limit) {
        throw malformed("truncated");
      }
      int first = der[pos++] & 0xff;
      int length;
      if (first < 0x80) {
        length = first;
      } else {
        int bytes = first & 0x7f;
        if (bytes == 0 || bytes > 3 || bytes > limit - pos) {
          throw malformed("bad length");
        }
        length = 0;
        for (int i = 0; i < bytes; i++) {
          length = (length << 8) | (der[pos++] & 0xff);
        }
      }
      if (length > limit - pos) {
        throw malformed("an element longer than its input");
      }
      return length;
    }

    private static GeneralSecurityException malformed(String detail) {
      return new GeneralSecurityException("malformed DER in the EC private key (" + detail + ")");
    }
  }

  private static byte[] integer0() {
    return new byte[] {0x02, 0x01, 0x00};
  }

  private static byte[] octetString(byte[] content) {
    return tlv(0x04, content);
  }

  private static byte[] bitString(byte[] content) {
    byte[] withPadding = new byte[content.length + 1];
    System.arraycopy(content, 0, withPadding, 1, content.length);
    return tlv(0x03, withPadding);
  }

  private static byte[] sequence(byte[]... parts) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      body.writeBytes(part);
    }
    return tlv(0x30, body.toByteArray());
  }

  private static byte[] tlv(int tag, byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    int length = content.length;
    if (length < 0x80) {
      out.write(length);
    } else if (length < 0x100) {
      out.write(0x81);
      out.write(length);
    } else if (length < 0x10000) {
      out.write(0x82);
      out.write(length >> 8);
      out.write(length);
    } else {
      out.write(0x83);
      out.write(length >> 16);
      out.write(length >> 8);
      out.write(length);
    }
    out.writeBytes(content);
    return out.toByteArray();
  }

  private static byte[] hex(String hex) {
    byte[] out = new byte[hex.length() / 2];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
    }
    return out;
  }
}
