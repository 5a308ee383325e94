package io.agserver.stream;

import java.util.concurrent.CompletionStage;

/**
 * One consumer of an {@link AGStream}. It sees every value written to the stream after it was created, in order,
 * independently of the stream's other consumers.
 */
public interface AGConsumer<T> {

  /** Unique across all streams of the JVM. */
  long id();

  /** Items written to this consumer and not yet handed to its handler or taken by {@link #next()}; 0 once ended. */
  int backpressure();

  /**
   * Pull-style consumers only (from {@link AGStream#createConsumer()}): the next item, or {@link Next#end()} once
   * the consumer has ended. Call it again only after the previous stage has completed; an overlapping call throws
   * {@link IllegalStateException}. The stage may complete on the writing thread.
   *
   * @throws UnsupportedOperationException on push-style consumers
   */
  CompletionStage<Next<T>> next();

  /** Ends this consumer now and drops its backlog (like {@code iterator.return()} in JavaScript). Idempotent. */
  void kill();

  boolean isDone();

  /** Completes when this consumer has ended: backlog delivered after a close, or killed. */
  CompletionStage<Void> done();

  ConsumerStats stats();
}
