package io.agserver.stream;

/** Fails a {@link AGStream#once(long)} whose timeout elapsed before a value was written. */
public class StreamTimeoutException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public StreamTimeoutException() {
    super("Stream consumer iteration timed out");
  }

  public StreamTimeoutException(String message) {
    super(message);
  }

  /** The error name the JavaScript original uses; the protocol layer reports it to clients. */
  public String getName() {
    return "TimeoutError";
  }
}
