package io.agserver.transport;

import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

import sun.misc.Signal;
import sun.misc.SignalHandler;

import io.agserver.AGServer;

/**
 * SIGTERM drains the server before the JVM begins to exit, then exits as SIGTERM always did.
 *
 * <p>Why a signal handler and not only the application's stop hooks: measured on Open Liberty 26,
 * a stop (SIGTERM or {@code server stop}) starts with the server's quiesce, which stops listening
 * and drops every WebSocket connection at once, without a close frame, within half a second and
 * before {@code contextDestroyed} or any {@code @PreDestroy} runs; a JVM shutdown hook runs in
 * parallel with the runtime's own and cannot hold it back. A handler of the signal itself runs
 * before any of that. On Payara Micro the stop hooks would do (the sessions stay open until
 * {@code @PreDestroy} returns), and the handler drains there just as well.
 *
 * <p>The JVM's own handler (the one that runs the shutdown hooks) is called once the drain ends,
 * on the same thread. Where the signal cannot be handled (a JVM started with {@code -Xrs}, one
 * without {@code sun.misc.Signal}) or is ignored, nothing is installed and a SIGTERM stops the
 * runtime as before.
 */
final class StopSignal {

  private static final Logger LOG = Logger.getLogger(StopSignal.class.getName());

  private final Signal signal;
  private final SignalHandler previous;
  private final SignalHandler handler;

  private StopSignal(Signal signal, SignalHandler previous, SignalHandler handler) {
    this.signal = signal;
    this.previous = previous;
    this.handler = handler;
  }

  /** Installs the drain on SIGTERM; null where that cannot be done (and says why in the log). */
  static StopSignal install(AGServer server) {
    try {
      Signal term = new Signal("TERM");
      AtomicReference<SignalHandler> replaced = new AtomicReference<>();
      SignalHandler handler = sig -> {
        try {
          server.drainAndWait();
        } finally {
          forward(replaced.get(), sig);
        }
      };
      SignalHandler previous = Signal.handle(term, handler);
      if (previous == SignalHandler.SIG_IGN) {
        // The process was told to ignore SIGTERM: keep it that way.
        Signal.handle(term, previous);
        return null;
      }
      replaced.set(previous);
      return new StopSignal(term, previous, handler);
    } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError | SecurityException e) {
      LOG.log(Level.INFO, "SIGTERM cannot drain agserver's sockets in this JVM (" + e
          + "): the runtime's stop closes them itself");
      return null;
    }
  }

  /** What SIGTERM did before: the JVM's handler runs the shutdown hooks and exits with 143. */
  private static void forward(SignalHandler previous, Signal sig) {
    if (previous == null || previous == SignalHandler.SIG_DFL) {
      Runtime.getRuntime().exit(128 + sig.getNumber());
    } else {
      previous.handle(sig);
    }
  }

  /** The application stops: SIGTERM goes back to what it did before (unless something replaced us). */
  void uninstall() {
    try {
      SignalHandler current = Signal.handle(signal, previous);
      if (current != handler) {
        Signal.handle(signal, current);
      }
    } catch (IllegalArgumentException | IllegalStateException e) {
      LOG.log(Level.FINE, "SIGTERM's handler could not be restored", e);
    }
  }
}
