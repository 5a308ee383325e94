package io.agserver.ops;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One connection's place under {@code maxConnections} and {@code maxConnectionsPerAddress}, from
 * the upgrade request that took it to the socket's close.
 *
 * <p>The rule: a slot is released exactly once, by whoever holds it when the connection's story
 * ends. The upgrade request holds it first ({@link #TAKEN}); the WebSocket container's handshake
 * hook marks it handed to the container ({@link #HANDED}); the socket claims it when the
 * connection opens ({@link #OWNED}) and releases it when it closes. A slot never claimed is
 * released by the request when the container did not accept the upgrade, or by the server's
 * timer sweep when no socket claimed it in time. Every move is one compare-and-set on the state,
 * so two owners racing for the end of one slot cannot both release it, nor can a release and a
 * claim both win.
 */
public final class ConnectionSlot {

  static final int TAKEN = 0;
  static final int HANDED = 1;
  static final int OWNED = 2;
  static final int RELEASED = 3;

  private final ConnectionLimits limits;
  private final String address;
  private final AtomicInteger state = new AtomicInteger(TAKEN);
  /** When a slot handed to the container is given up, by the server's clock; set before it is listed. */
  volatile long openDeadline;

  ConnectionSlot(ConnectionLimits limits, String address) {
    this.limits = limits;
    this.address = address;
  }

  /** The client address the slot counts under (null without a per-address limit). */
  public String address() {
    return address;
  }

  /** The container accepted the upgrade (its handshake hook ran): a socket should claim the slot. */
  public void handOver() {
    state.compareAndSet(TAKEN, HANDED);
  }

  /** The connection opened: its socket owns the slot from now on. False if it was given up already. */
  public boolean claim() {
    if (moveUnclaimed(OWNED)) {
      limits.opened(this);
      return true;
    }
    return false;
  }

  /** The owner's release: the socket closed. Only the first release of a slot counts. */
  public void release() {
    int current = state.get();
    while (current != RELEASED) {
      if (state.compareAndSet(current, RELEASED)) {
        limits.free(this);
        return;
      }
      current = state.get();
    }
  }

  /** Gives the slot up unless a socket claimed it; true if this call released it. */
  public boolean releaseUnclaimed() {
    if (moveUnclaimed(RELEASED)) {
      limits.free(this);
      return true;
    }
    return false;
  }

  /** From TAKEN or HANDED (whichever it is now) to {@code next}; false once it is OWNED or RELEASED. */
  private boolean moveUnclaimed(int next) {
    for (;;) {
      int current = state.get();
      if (current == OWNED || current == RELEASED) {
        return false;
      }
      if (state.compareAndSet(current, next)) {
        return true;
      }
    }
  }

  boolean isReleased() {
    return state.get() == RELEASED;
  }

  int state() {
    return state.get();
  }

  @Override
  public String toString() {
    return "ConnectionSlot[" + address + ", " + new String[] {"taken", "handed", "owned", "released"}[state.get()] + "]";
  }
}
