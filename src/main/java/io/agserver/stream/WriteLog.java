package io.agserver.stream;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The append-only log of one stream, shared by all its consumers (each reads it through its own cursor). One log
 * gives every consumer the same order, even for a write made from inside another consumer's handler, and costs one
 * node per write whatever the number of consumers.
 *
 * <p>Appending is a Michael-Scott enqueue: a node is visible as soon as its link CAS succeeded, so a write that
 * returned is readable. Nodes are numbered, so a consumer's backlog is a subtraction. Nodes behind every cursor are
 * garbage; only the newest node stays referenced by {@code tail}.
 */
final class WriteLog {

  static final class Node {
    /** A masked value or {@link BaseConsumer#CLOSE}. */
    final Object value;
    /** The only consumer this node is for, or 0 for all. */
    final long target;
    /** Position in the log; written before the node is published by the link CAS. */
    long seq;
    volatile Node next;

    Node(Object value, long target) {
      this.value = value;
      this.target = target;
    }
  }

  private static final VarHandle NEXT;
  private static final VarHandle TAIL;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      NEXT = l.findVarHandle(Node.class, "next", Node.class);
      TAIL = l.findVarHandle(WriteLog.class, "tail", Node.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** At or shortly before the last node (it may lag while appends are in flight). */
  @SuppressWarnings("unused") // via TAIL
  private volatile Node tail = new Node(null, 0);

  void append(Object value, long target) {
    Node node = new Node(value, target);
    Node start = (Node) TAIL.getAcquire(this);
    Node last = start;
    for (;;) {
      Node next = last.next;
      if (next == null) {
        node.seq = last.seq + 1;
        if (NEXT.compareAndSet(last, null, node)) {
          break;
        }
      } else {
        last = next;
      }
    }
    // Best effort: a failed CAS means another writer moved the tail on already.
    TAIL.compareAndSet(this, start, node);
  }

  /** The newest node: where a new consumer starts reading. */
  Node last() {
    Node t = (Node) TAIL.getAcquire(this);
    for (Node n = t.next; n != null; n = n.next) {
      t = n;
    }
    return t;
  }
}
