package io.agserver.arquillian;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.ObservesAsync;

import io.agserver.AGServerSocket;
import io.agserver.event.AGClosureEvent;
import io.agserver.event.AGConnectionAbortEvent;
import io.agserver.event.AGConnectionEvent;
import io.agserver.event.AGDisconnectionEvent;
import io.agserver.event.AGHandshakeEvent;

/** Records the lifecycle CDI events of every socket, by socket id, in the order they are observed. */
@ApplicationScoped
public class EventRecorder {

  private final Map<String, List<String>> events = new ConcurrentHashMap<>();
  private final Map<String, String> asyncConnections = new ConcurrentHashMap<>();

  void onHandshake(@Observes AGHandshakeEvent event) {
    record(event.socket(), "handshake");
  }

  void onConnection(@Observes AGConnectionEvent event) {
    record(event.socket(), "connection");
  }

  /** Asynchronous observers get the same events, on another thread. */
  void onConnectionAsync(@ObservesAsync AGConnectionEvent event) {
    asyncConnections.put(event.socket().id(), Thread.currentThread().getName());
  }

  /** The thread that delivered the socket's connection event to the async observer, once it has. */
  public String awaitAsyncConnection(String socketId, long timeoutMillis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (!asyncConnections.containsKey(socketId) && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
    }
    return asyncConnections.get(socketId);
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

  /** Waits (up to timeoutMillis) until the socket's events include one starting with prefix. */
  public List<String> awaitEvent(String socketId, String prefix, long timeoutMillis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (true) {
      List<String> now = events(socketId);
      if (now.stream().anyMatch(name -> name.startsWith(prefix)) || System.currentTimeMillis() > deadline) {
        return now;
      }
      Thread.sleep(20);
    }
  }
}
