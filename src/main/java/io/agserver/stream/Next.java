package io.agserver.stream;

/**
 * One result of a pull-style {@link AGConsumer#next()}: either a value, or the end of the consumer.
 *
 * @param value the value written to the stream (may be {@code null}); always {@code null} when {@code done}
 * @param done  true once the consumer has ended (stream closed and backlog taken, or killed)
 */
public record Next<T>(T value, boolean done) {

  private static final Next<?> DONE = new Next<>(null, true);

  public static <T> Next<T> of(T value) {
    return new Next<>(value, false);
  }

  /**
   * The end marker. (It cannot be called {@code done()}: Java forbids a static method with the signature of the
   * {@code done} component's accessor.)
   */
  @SuppressWarnings("unchecked")
  public static <T> Next<T> end() {
    // Immutable, so one instance serves every consumer.
    return (Next<T>) DONE;
  }
}
