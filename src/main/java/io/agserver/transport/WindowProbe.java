package io.agserver.transport;

import java.io.FileDescriptor;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Whether a connection can take data now: one {@code poll(2)} of its socket for POLLOUT, which
 * the kernel reports while the socket's send buffer has room (at least a third of it free).
 *
 * <p>Why the JDK's internal {@code sun.nio.ch.Net.poll}: java.nio asks it only through a
 * {@link java.nio.channels.Selector}, a registration, a select and a deregistration per question
 * (measured in the slow-consumers benchmark: asked before each of 40,000 sends a second, that
 * saturated the server's core). Open Liberty opens {@code java.base/sun.nio.ch} to applications
 * ({@code lib/platform/java/java9.options}); where it is not open, {@link #available} is false
 * and sends are written without asking, as before.
 */
final class WindowProbe {

  private static final Logger LOG = Logger.getLogger(WindowProbe.class.getName());

  private static final MethodHandle GET_FD;
  private static final MethodHandle POLL;
  private static final int POLLOUT;

  static {
    MethodHandle getFd = null;
    MethodHandle poll = null;
    int pollout = 0;
    try {
      Class<?> net = Class.forName("sun.nio.ch.Net");
      Method pollMethod = net.getDeclaredMethod("poll", FileDescriptor.class, int.class, long.class);
      pollMethod.setAccessible(true);
      Field polloutField = net.getDeclaredField("POLLOUT");
      polloutField.setAccessible(true);
      Class<?> selectable = Class.forName("sun.nio.ch.SelChImpl");
      Method getFdMethod = selectable.getMethod("getFD");
      getFdMethod.setAccessible(true);
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      poll = lookup.unreflect(pollMethod);
      getFd = lookup.unreflect(getFdMethod)
          .asType(MethodType.methodType(FileDescriptor.class, SocketChannel.class));
      pollout = ((Number) polloutField.get(null)).intValue();
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      LOG.log(Level.FINE, "java.base/sun.nio.ch is not open to agserver: sends are written without"
          + " asking whether the client's window has room", e);
      getFd = null;
      poll = null;
    }
    GET_FD = getFd;
    POLL = poll;
    POLLOUT = pollout;
  }

  private WindowProbe() {}

  private static final AtomicBoolean UNAVAILABLE_LOGGED = new AtomicBoolean();

  static boolean available() {
    return POLL != null;
  }

  /**
   * Whether sends can ask; if not, says once why a client that stops reading will hold a sender
   * thread (Open Liberty's launcher opens the package: a JVM started otherwise does not).
   */
  static boolean availableOrWarn() {
    if (POLL == null && UNAVAILABLE_LOGGED.compareAndSet(false, true)) {
      LOG.warning("The JDK's sun.nio.ch is not open to agserver (--add-opens java.base/sun.nio.ch=ALL-UNNAMED):"
          + " a send to a client that stopped reading holds a sender thread until socketcluster.sendTimeout");
    }
    return POLL != null;
  }

  /** Whether {@code channel} can take data now; true when it cannot tell (its write then tells). */
  static boolean mayTakeData(SocketChannel channel) {
    try {
      FileDescriptor fd = (FileDescriptor) GET_FD.invokeExact(channel);
      int ready = (int) POLL.invokeExact(fd, POLLOUT, 0L);
      return (ready & POLLOUT) != 0;
    } catch (Throwable e) {
      return true; // closed, or no descriptor: the write fails at once or goes through
    }
  }
}
