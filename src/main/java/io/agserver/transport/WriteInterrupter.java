package io.agserver.transport;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.websocket.Session;

/**
 * Ends a blocking write that a client's full TCP window holds, so that its sender thread is free
 * again. How depends on the runtime:
 *
 * <ul>
 *   <li>Tyrus (Payara, GlassFish) and others: {@code Session.close} from another thread fails
 *       the blocked write at once (measured on Payara Micro 6.2025.10: the write ended with a
 *       CancellationException within 20 ms).
 *   <li>Open Liberty: {@code Session.close} from another thread does not end it. Measured on
 *       26.0.0.3 with a client that stopped reading: close returned after 5.5 s, the connection
 *       stayed open (the 60 s the client kept it), and the write never returned, not even after
 *       the client had gone: the TCP channel stops watching a closed connection without waking
 *       the thread parked in its write, a thread lost for good. Interrupting the writer does
 *       nothing either. Shutting the connection's output down ends the write at once (it fails
 *       with an IOException, as when the client goes away), so agserver does that and closes the
 *       session only after the write returned. Jakarta WebSocket has no way to reach the
 *       socket: it is found by reflection in Liberty's session (session -> SessionImpl.connLink
 *       -> WsocConnLink.tcpConnection -> TCPConnLink -> SocketIOChannel -> Socket). Should
 *       Liberty itself have closed the connection under the write, its parked writer is woken
 *       with an IOException the way the TCP channel wakes it ({@link #wakeOrphanedWriter}). If a
 *       Liberty version no longer has that path, a WARNING says so once and the write waits for
 *       the client to read or leave.
 * </ul>
 */
final class WriteInterrupter {

  private static final Logger LOG = Logger.getLogger(WriteInterrupter.class.getName());
  private static final AtomicBoolean LIBERTY_FAILURE_LOGGED = new AtomicBoolean();

  /** What {@link #interrupt} did. */
  enum Outcome {
    /** The connection's output is shut down: the write fails now; close the session after it. */
    OUTPUT_SHUT,
    /** Nothing was done: close the session, which ends the write on this runtime. */
    CLOSE_SESSION,
    /** Nothing can end the write on this runtime: wait for it, never close under it. */
    WAIT
  }

  private WriteInterrupter() {}

  static boolean isLiberty(Session session) {
    return session.getClass().getName().startsWith("com.ibm.ws.wsoc.");
  }

  /** Ends a write in progress on {@code session} where the runtime needs more than a close. */
  static Outcome interrupt(Session session) {
    return isLiberty(session) ? shutLibertyOutput(session) : Outcome.CLOSE_SESSION;
  }

  /**
   * Where a Liberty session's connection is: its WsocConnLink, TCPConnLink and SocketIOChannel
   * (null once Liberty closed the connection).
   */
  private record LibertyConnection(Object link, Object connection, Object channel) {

    static LibertyConnection of(Object session) throws ReflectiveOperationException {
      Object impl = session.getClass().getMethod("getSessionImpl").invoke(session);
      Object link = field(impl, "connLink");
      Object connection = field(link, "tcpConnection");
      return new LibertyConnection(link, connection,
          connection.getClass().getMethod("getSocketIOChannel").invoke(connection));
    }

    Socket socket() throws ReflectiveOperationException {
      return (Socket) method(channel, "getSocket");
    }
  }

  /** Shuts the output of a Liberty session's connection (any object shaped as Liberty's session). */
  static Outcome shutLibertyOutput(Object session) {
    LibertyConnection liberty;
    try {
      liberty = LibertyConnection.of(session);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return cannotReach(e);
    }
    if (liberty.channel() == null) {
      // Liberty closed the connection itself while the write was blocked: nothing will ever wake
      // that write (its TCP channel stopped watching the socket), unless we do.
      wakeOrphanedWriter(liberty.link(), liberty.connection());
      return Outcome.OUTPUT_SHUT;
    }
    Socket socket;
    try {
      socket = liberty.socket();
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return cannotReach(e);
    }
    try {
      if (!socket.isOutputShutdown() && !socket.isClosed()) {
        socket.shutdownOutput();
      }
    } catch (java.io.IOException e) {
      // Already closed: the write has failed or is about to.
    }
    return Outcome.OUTPUT_SHUT;
  }

  /**
   * The connection of an Open Liberty session, for the {@link WindowWatch}; null on another
   * runtime, once Liberty closed it, or where Liberty's internals are not as expected.
   */
  static SocketChannel libertyChannel(Session session) {
    if (!isLiberty(session)) {
      return null;
    }
    try {
      LibertyConnection liberty = LibertyConnection.of(session);
      if (liberty.channel() == null) {
        return null;
      }
      SocketChannel nio = liberty.socket().getChannel();
      // Registering with a selector needs a non-blocking channel, which Liberty's always are.
      return nio != null && !nio.isBlocking() ? nio : null;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      LOG.log(Level.FINE, "No channel for an Open Liberty session; its sends wait for the window on a sender", e);
      return null;
    }
  }

  private static Outcome cannotReach(Throwable e) {
    if (LIBERTY_FAILURE_LOGGED.compareAndSet(false, true)) {
      LOG.log(Level.WARNING, "Cannot reach the TCP connection of an Open Liberty WebSocket session ("
          + e + "): a write to a client that stopped reading holds its sender thread until the client"
          + " reads or disconnects, whatever socketcluster.sendTimeout says", e);
    }
    return Outcome.WAIT;
  }

  /**
   * The write of a connection that Liberty closed while it was blocked: the writer is parked on
   * its write request's SimpleSync until the selector reports the socket, which it never will
   * for a closed connection (measured: parked for good after the client had gone). This hands
   * it the IOException the selector would have, the way the TCP channel wakes it: the session's
   * WsocConnLink.linkWrite.messageWriter.tcpWriteContext -> blockingIOError, then
   * blockWait.simpleNotify(). Only for a closed connection, and only when that request still
   * belongs to it (its oTCPConnLink), so that no other connection's write is touched. Called only
   * while agserver knows the session's write is in progress.
   */
  static boolean wakeOrphanedWriter(Object wsocConnLink, Object tcpConnLink) {
    try {
      Object request = field(field(field(wsocConnLink, "linkWrite"), "messageWriter"), "tcpWriteContext");
      if (fieldValue(request, "oTCPConnLink") != tcpConnLink) {
        return false;
      }
      Object sync = field(request, "blockWait");
      setField(request, "blockingIOError", new java.io.IOException("The connection was closed during the write"));
      Method notify = sync.getClass().getDeclaredMethod("simpleNotify");
      notify.setAccessible(true);
      notify.invoke(sync);
      LOG.fine("Woke a write blocked on a closed Open Liberty connection");
      return true;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      LOG.log(Level.FINE, "Cannot wake a write blocked on a closed Open Liberty connection", e);
      return false;
    }
  }

  private static Field declared(Object target, String name) throws NoSuchFieldException {
    for (Class<?> type = target.getClass(); type != null; type = type.getSuperclass()) {
      try {
        Field field = type.getDeclaredField(name);
        field.setAccessible(true);
        return field;
      } catch (NoSuchFieldException e) {
        // look in the superclass
      }
    }
    throw new NoSuchFieldException(name + " in " + target.getClass().getName());
  }

  private static Object fieldValue(Object target, String name) throws ReflectiveOperationException {
    return declared(target, name).get(target);
  }

  private static void setField(Object target, String name, Object value) throws ReflectiveOperationException {
    declared(target, name).set(target, value);
  }

  private static Object field(Object target, String name) throws ReflectiveOperationException {
    return nonNull(fieldValue(target, name), name, target);
  }

  private static Object nonNull(Object value, String name, Object target) throws NoSuchFieldException {
    if (value == null) {
      throw new NoSuchFieldException(name + " is null in " + target.getClass().getName());
    }
    return value;
  }

  private static Object method(Object target, String name) throws ReflectiveOperationException {
    Method method = target.getClass().getMethod(name);
    method.setAccessible(true);
    return nonNull(method.invoke(target), name + "()", target);
  }
}
