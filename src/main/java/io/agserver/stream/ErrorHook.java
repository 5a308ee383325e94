package io.agserver.stream;

import java.util.function.BiConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/** Where handler failures go: a failing handler must not end its consumer, nor reach the writer. */
final class ErrorHook {

  private static final Logger LOG = Logger.getLogger(AGStream.class.getPackageName());

  static final BiConsumer<AGConsumer<?>, Throwable> DEFAULT =
      (consumer, error) -> LOG.log(Level.WARNING, "Uncaught error in stream consumer " + consumer.id(), error);

  private static volatile BiConsumer<AGConsumer<?>, Throwable> handler = DEFAULT;

  private ErrorHook() {
  }

  static void set(BiConsumer<AGConsumer<?>, Throwable> h) {
    handler = h == null ? DEFAULT : h;
  }

  static BiConsumer<AGConsumer<?>, Throwable> get() {
    return handler;
  }

  static void report(AGConsumer<?> consumer, Throwable error) {
    try {
      handler.accept(consumer, error);
    } catch (Throwable hookFailure) {
      // A broken hook must not break delivery; the default logger is the last resort.
      try {
        DEFAULT.accept(consumer, error);
      } catch (Throwable ignored) {
        // Nothing left to report to.
      }
    }
  }
}
