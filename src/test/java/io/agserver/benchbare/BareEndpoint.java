package io.agserver.benchbare;

import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.websocket.OnClose;
import jakarta.websocket.OnMessage;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpoint;

/**
 * The reference bench/run measures agserver against: a bare endpoint on the same runtime that
 * answers the load generator's {@code #handshake}, {@code echo}, {@code #subscribe} and
 * {@code #publish} by slicing strings, with no SocketCluster semantics at all (no parsing, no
 * streams, no queues, no timers, no pings, no middleware). A publish is written to every
 * subscriber of its channel on the publisher's read thread, one frame each, as the load generator
 * sent it less its cid: the least work a Jakarta WebSocket server can do per delivery, though
 * not the fastest way to do it (one thread writing to every subscriber in turn).
 */
@ServerEndpoint("/socketcluster/")
public class BareEndpoint {

  private static final String HANDSHAKE = "{\"event\":\"#handshake\"";
  private static final String ECHO = "{\"event\":\"echo\",\"data\":";
  private static final String SUBSCRIBE = "{\"event\":\"#subscribe\"";
  private static final String PUBLISH = "{\"event\":\"#publish\"";
  private static final String CHANNEL = "\"channel\":\"";
  private static final String CID = ",\"cid\":";

  private static final Map<String, Set<Session>> SUBSCRIBERS = new ConcurrentHashMap<>();
  private static final String CHANNELS = "bare.channels";

  // Synchronous sends, each under the session's lock: a session may be written by its own read
  // thread (answers) and by any publisher's at once, which the container does not allow.
  @OnMessage
  public void onMessage(String message, Session session) throws IOException {
    int cidAt = message.lastIndexOf(CID);
    if (cidAt < 0) {
      return;
    }
    String cid = message.substring(cidAt + CID.length(), message.length() - 1);
    if (message.startsWith(ECHO)) {
      String data = message.substring(ECHO.length(), cidAt);
      send(session, "{\"rid\":" + cid + ",\"data\":" + data + "}");
    } else if (message.startsWith(PUBLISH)) {
      String delivery = message.substring(0, cidAt) + "}";
      Set<Session> subscribers = SUBSCRIBERS.get(channel(message));
      if (subscribers != null) {
        for (Session subscriber : subscribers) {
          trySend(subscriber, delivery);
        }
      }
      send(session, "{\"rid\":" + cid + "}");
    } else if (message.startsWith(SUBSCRIBE)) {
      String channel = channel(message);
      SUBSCRIBERS.computeIfAbsent(channel, c -> ConcurrentHashMap.newKeySet()).add(session);
      channelsOf(session).add(channel);
      send(session, "{\"rid\":" + cid + "}");
    } else if (message.startsWith(HANDSHAKE)) {
      send(session, "{\"rid\":" + cid
          + ",\"data\":{\"id\":\"bare\",\"pingTimeout\":20000,\"isAuthenticated\":false}}");
    }
  }

  @OnClose
  public void onClose(Session session) {
    for (String channel : channelsOf(session)) {
      Set<Session> subscribers = SUBSCRIBERS.get(channel);
      if (subscribers != null) {
        subscribers.remove(session);
      }
    }
  }

  private static String channel(String message) {
    int start = message.indexOf(CHANNEL) + CHANNEL.length();
    return message.substring(start, message.indexOf('"', start));
  }

  @SuppressWarnings("unchecked")
  private static Set<String> channelsOf(Session session) {
    return (Set<String>) session.getUserProperties()
        .computeIfAbsent(CHANNELS, k -> ConcurrentHashMap.newKeySet());
  }

  private static void send(Session session, String text) throws IOException {
    synchronized (session) {
      session.getBasicRemote().sendText(text);
    }
  }

  /** A subscriber that is gone must not stop the others' deliveries. */
  private static void trySend(Session session, String text) {
    try {
      send(session, text);
    } catch (IOException | RuntimeException e) {
      // Closed meanwhile: its close removes it.
    }
  }
}
