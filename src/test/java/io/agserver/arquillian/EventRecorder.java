package io.agserver.arquillian;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.ObservesAsync;

import io.agserver.AGServerSocket;
import io.agserver.event.AGClosureEvent;
import io.agserver.event.AGConnectionAbortEvent;
import io.agserver.event.AGConnectionEvent;
import io.agserver.event.AGDisconnectionEvent;
import io.agserver.event.AGHandshakeEvent;

/**
 * Records the lifecycle CDI events of every socket, by socket id, in the order they are observed.
 * A test waits for an event by waiting on this recorder, which every recorded event wakes.
 */
@ApplicationScoped
public class EventRecorder {

  private final Map<String, List<String>> events = new ConcurrentHashMap<>();
  private final Map<String, String> asyncConnections = new ConcurrentHashMap<>();
  private final Object changed = new Object();

  void onHandshake(@Observes AGHandshakeEvent event) {
    record(event.socket(), "handshake");
  }

  void onConnection(@Observes AGConnectionEvent event) {
    record(event.socket(), "connection");
  }

  /** Asynchronous observers get the same events, on another thread. */
  void onConnectionAsync(@ObservesAsync AGConnectionEvent event) {
    asyncConnections.put(event.socket().id(), Thread.currentThread().getName());
    signal();
  }

  /**
   * The thread that delivered the socket's connection event to the async observer, once it has;
   * null if it has not within timeoutMillis.
   */
  public String awaitAsyncConnection(String socketId, long timeoutMillis) throws InterruptedException {
    return await(timeoutMillis, () -> asyncConnections.get(socketId));
  }

  void onConnectionAbort(@Observes AGConnectionAbortEvent event) {
    record(event.socket(), "connectionAbort");
  }

  void onDisconnection(@Observes AGDisconnectionEvent event) {
    record(event.socket(), "disconnection:" + event.code());
  }

  void onClosure(@Observes AGClosureEvent event) {
    record(event.socket(), "closure:" + event.code());
  }

  private void record(AGServerSocket socket, String name) {
    events.computeIfAbsent(socket.id(), id -> Collections.synchronizedList(new ArrayList<>())).add(name);
    signal();
  }

  private void signal() {
    synchronized (changed) {
      changed.notifyAll();
    }
  }

  /** The first non-null value, checked on every change, or null after timeoutMillis. */
  private <T> T await(long timeoutMillis, Supplier<T> value) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    synchronized (changed) {
      // Checked under the lock that signal() takes after each change: no change goes unseen.
      T now = value.get();
      long left;
      while (now == null && (left = deadline - System.nanoTime()) > 0) {
        TimeUnit.NANOSECONDS.timedWait(changed, left);
        now = value.get();
      }
      return now;
    }
  }

  /** The ids of the sockets seen so far. */
  public Set<String> socketIds() {
    return Set.copyOf(events.keySet());
  }

  /** The id of a socket not in {@code known} once one has had an event; null after the timeout. */
  public String awaitNewSocket(Set<String> known, long timeoutMillis) throws InterruptedException {
    return await(timeoutMillis,
        () -> events.keySet().stream().filter(id -> !known.contains(id)).findFirst().orElse(null));
  }

  /** A copy of the events of this socket so far. */
  public List<String> events(String socketId) {
    List<String> list = events.get(socketId);
    if (list == null) {
      return List.of();
    }
    synchronized (list) {
      return List.copyOf(list);
    }
  }

  /**
   * The socket's events once they include one starting with prefix; after timeoutMillis without
   * one, the events so far (for the caller's assertion to show).
   */
  public List<String> awaitEvent(String socketId, String prefix, long timeoutMillis) throws InterruptedException {
    List<String> found = await(timeoutMillis, () -> {
      List<String> now = events(socketId);
      return now.stream().anyMatch(name -> name.startsWith(prefix)) ? now : null;
    });
    return found != null ? found : events(socketId);
  }
}
