package io.agserver.endpoint;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.Socket;
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
 *       stayed open until Liberty's 30 s wait for the client's close frame ran out, and the write
 *       never returned, not even after the client had gone (its TCP channel stops watching the
 *       socket without waking the writer): a thread lost for good. Interrupting the writer does
 *       nothing either. Shutting the connection's output down ends it at once (the write fails
 *       with an IOException, as when the client goes away). Jakarta WebSocket has no way to
 *       reach the socket, so it is found by reflection in Liberty's session
 *       (session -> SessionImpl.connLink -> WsocConnLink.tcpConnection -> TCPConnLink ->
 *       SocketIOChannel -> Socket); if a Liberty version no longer has that path, a WARNING
 *       says so once and the write waits for the client to read or leave.
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

  /** Shuts the output of a Liberty session's connection (any object shaped as Liberty's session). */
  static Outcome shutLibertyOutput(Object session) {
    Socket socket;
    try {
      socket = libertySocket(session);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      if (LIBERTY_FAILURE_LOGGED.compareAndSet(false, true)) {
        LOG.log(Level.WARNING, "Cannot reach the TCP connection of an Open Liberty WebSocket session ("
            + e + "): a write to a client that stopped reading holds its sender thread until the client"
            + " reads or disconnects, whatever socketcluster.sendTimeout says", e);
      }
      return Outcome.WAIT;
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

  static Socket libertySocket(Object session) throws ReflectiveOperationException {
    Object impl = session.getClass().getMethod("getSessionImpl").invoke(session);
    Object link = field(impl, "connLink");
    Object tcp = field(link, "tcpConnection");
    Object channel = method(tcp, "getSocketIOChannel");
    return (Socket) method(channel, "getSocket");
  }

  private static Object field(Object target, String name) throws ReflectiveOperationException {
    for (Class<?> type = target.getClass(); type != null; type = type.getSuperclass()) {
      Field field;
      try {
        field = type.getDeclaredField(name);
      } catch (NoSuchFieldException e) {
        continue; // look in the superclass
      }
      field.setAccessible(true);
      return nonNull(field.get(target), name, target);
    }
    throw new NoSuchFieldException(name + " in " + target.getClass().getName());
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
