package io.agserver.core;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** What a failed stage failed with. */
public final class Failures {

  private Failures() {}

  /** The cause inside the wrappers that CompletableFuture and Future add. */
  public static Throwable unwrap(Throwable error) {
    Throwable cause = error;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }
}
