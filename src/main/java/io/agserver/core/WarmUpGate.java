package io.agserver.core;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.function.Consumer;

import io.agserver.AGServerSocket;
import io.agserver.AGUpgradeRequest;

/**
 * How the server tells its own warm-up connections from clients: an upgrade request that carries
 * the header {@link #HEADER} with the key of the warm-up under way. Such a socket skips the
 * handshake middleware and the origin check, runs no middleware, and raises no server event: the
 * application never sees it. The key is random per warm-up and accepted only while that warm-up
 * runs; without a warm-up under way the gate costs one volatile read per upgrade.
 */
public final class WarmUpGate {

  /** The request header that carries the key. */
  public static final String HEADER = "X-AGServer-Warm-Up";

  private static final SecureRandom RANDOM = new SecureRandom();

  private volatile Opening open;

  private record Opening(byte[] key, Consumer<AGServerSocket> connected) {}

  /**
   * Admits warm-up connections until {@link #close}: returns the key they must carry.
   * {@code connected} is handed each warm-up socket once its handshake completed (the
   * application's {@code connection} event, which warm-up sockets do not raise).
   */
  public String open(Consumer<AGServerSocket> connected) {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    String key = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    open = new Opening(key.getBytes(StandardCharsets.US_ASCII), connected);
    return key;
  }

  /** No more warm-up connections: the key is forgotten. */
  public void close() {
    open = null;
  }

  public boolean isOpen() {
    return open != null;
  }

  /** Whether the upgrade request is one of the warm-up's own. */
  public boolean admits(AGUpgradeRequest request) {
    Opening current = open;
    if (current == null) {
      return false;
    }
    String given = request.header(HEADER).orElse(null);
    return given != null && MessageDigest.isEqual(current.key(), given.getBytes(StandardCharsets.US_ASCII));
  }

  /** A warm-up socket completed its handshake (called by its server). */
  public void connected(AGServerSocket socket) {
    Opening current = open;
    if (current != null) {
      current.connected().accept(socket);
    }
  }
}
