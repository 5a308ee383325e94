package io.agserver.core;

import java.util.ArrayList;
import java.util.List;

/**
 * When each socket of a draining server gets its turn to close: the sockets in the order given
 * (the server sorts them by id), turns spread evenly over the drain time, the first at its start,
 * so that the clients of a stopping instance reconnect elsewhere a slice at a time rather than all
 * at once. With a drain time of 0 every turn is at the start.
 *
 * <p>Owned by the server's timer thread: only the sweep calls {@link #due}, which hands each
 * socket out once. Nothing here runs application code.
 */
public final class DrainSchedule<T> {

  private final List<T> sockets;
  private final long start;
  private final long drainTime;
  private int next;

  public DrainSchedule(List<T> sockets, long start, long drainTime) {
    this.sockets = List.copyOf(sockets);
    this.start = start;
    this.drainTime = drainTime;
  }

  /** The time of the {@code index}th turn: {@code start + drainTime * index / count}. */
  public long turn(int index) {
    return start + (sockets.isEmpty() ? 0 : drainTime * index / sockets.size());
  }

  /** The sockets whose turn came by {@code now} and that were not handed out before, in order. */
  public List<T> due(long now) {
    List<T> due = new ArrayList<>();
    while (next < sockets.size() && turn(next) <= now) {
      due.add(sockets.get(next++));
    }
    return due;
  }

  /** Every socket of the drain, in turn order. */
  public List<T> sockets() {
    return sockets;
  }

  public long start() {
    return start;
  }
}
