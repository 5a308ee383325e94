package io.agserver.core;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Socket ids shaped like base64id's: 15 bytes (12 random, the low bytes of a sequence number)
 * in URL-safe base64, 20 characters.
 */
public final class IdGenerator {

  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder();
  private final SecureRandom random = new SecureRandom();
  private final AtomicInteger sequence = new AtomicInteger(new SecureRandom().nextInt());

  public String generateId() {
    byte[] bytes = new byte[15];
    random.nextBytes(bytes);
    int seq = sequence.incrementAndGet();
    // base64id writes a 32-bit sequence at offset 11, then copies 12 random bytes over its
    // first byte: what remains of the sequence is its low three bytes.
    bytes[12] = (byte) (seq >>> 16);
    bytes[13] = (byte) (seq >>> 8);
    bytes[14] = (byte) seq;
    return ENCODER.encodeToString(bytes);
  }
}
