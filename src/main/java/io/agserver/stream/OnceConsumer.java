package io.agserver.stream;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;

/** Takes the first item and ends itself; fails if the consumer ends (close, kill, timeout) first. */
final class OnceConsumer<T> extends BaseConsumer<T> {

  final CompletableFuture<T> result = new CompletableFuture<>();
  private volatile boolean taken;
  private volatile boolean timedOut;

  @Override
  void deliver(Object value) {
    taken = true;
    // End first, so the result's callbacks already see the consumer gone from the stream.
    kill();
    result.complete(unmask(value));
  }

  /** Ends the consumer first, so that whoever sees the timeout already sees the consumer gone. */
  void timeOut() {
    timedOut = true;
    kill();
  }

  @Override
  void onEnded() {
    if (!taken) {
      result.completeExceptionally(timedOut
          ? new StreamTimeoutException()
          : new CancellationException("stream ended before a value was written"));
    }
  }
}
