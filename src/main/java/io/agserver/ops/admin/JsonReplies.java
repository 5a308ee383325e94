package io.agserver.ops.admin;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import io.agserver.codec.JsonCodec;

/** How the admin endpoints read JSON requests and write JSON answers. */
final class JsonReplies {

  private static final Logger LOG = Logger.getLogger(JsonReplies.class.getName());

  private JsonReplies() {}

  /** A request the endpoint refuses with 400 and this message. */
  static final class BadRequest extends Exception {
    BadRequest(String message) {
      super(message);
    }
  }

  static void send(HttpServletResponse response, int status, Object body) throws IOException {
    byte[] json = JsonCodec.instance().encode(body).getBytes(StandardCharsets.UTF_8);
    response.setStatus(status);
    response.setContentType("application/json;charset=UTF-8");
    response.setContentLength(json.length);
    response.getOutputStream().write(json);
  }

  static void error(HttpServletResponse response, int status, String message) throws IOException {
    send(response, status, Map.of("error", message));
  }

  /** The body as a JSON object, of at most {@code maxChars} characters. */
  static Map<?, ?> readObject(HttpServletRequest request, int maxChars) throws IOException, BadRequest {
    if (request.getContentLengthLong() > (long) maxChars * 4) {
      throw new BadRequest("The request body is larger than " + maxChars + " characters");
    }
    request.setCharacterEncoding(StandardCharsets.UTF_8.name());
    StringBuilder text = new StringBuilder();
    char[] buffer = new char[8192];
    try (Reader reader = request.getReader()) {
      for (int n; (n = reader.read(buffer)) >= 0; ) {
        text.append(buffer, 0, n);
        if (text.length() > maxChars) {
          throw new BadRequest("The request body is larger than " + maxChars + " characters");
        }
      }
    }
    Object value;
    try {
      value = JsonCodec.instance().parse(text.toString());
    } catch (IllegalArgumentException e) {
      throw new BadRequest("The request body is not JSON: " + e.getMessage());
    }
    if (!(value instanceof Map<?, ?> object)) {
      throw new BadRequest("The request body is not a JSON object");
    }
    return object;
  }

  /**
   * The answer of an asynchronous request, written once: by the work it waits for, or with 503
   * when that did not finish within {@code timeoutMillis} (a stopping server drops queued work).
   */
  static final class AsyncReply {
    private final AsyncContext context;
    private final AtomicBoolean done = new AtomicBoolean();

    AsyncReply(HttpServletRequest request, long timeoutMillis) {
      this.context = request.startAsync();
      context.setTimeout(timeoutMillis);
      context.addListener(new AsyncListener() {
        @Override
        public void onTimeout(AsyncEvent event) {
          send(503, Map.of("error", "The server did not finish this in " + timeoutMillis + " ms"));
        }

        @Override
        public void onComplete(AsyncEvent event) {
          done.set(true);
        }

        @Override
        public void onError(AsyncEvent event) {
          done.set(true);
        }

        @Override
        public void onStartAsync(AsyncEvent event) {}
      });
    }

    /**
     * {@code job}, answering 500 with its error when it throws instead of leaving the request to
     * its timeout (the work runs on the server's workers, whose guard only logs).
     */
    Runnable guarding(String what, Runnable job) {
      return () -> {
        try {
          job.run();
        } catch (RuntimeException e) {
          LOG.log(Level.INFO, "agserver admin: " + what + " failed", e);
          send(500, Map.of("error", what + " failed: " + e));
        }
      };
    }

    /** Writes the answer and completes the request, unless one was written already. */
    void send(int status, Object body) {
      if (!done.compareAndSet(false, true)) {
        return;
      }
      try {
        JsonReplies.send((HttpServletResponse) context.getResponse(), status, body);
      } catch (IOException | RuntimeException e) {
        LOG.log(Level.FINE, "agserver admin: could not write an answer", e);
      } finally {
        try {
          context.complete();
        } catch (IllegalStateException alreadyCompleted) {
          // The container ended the request meanwhile (the client left).
        }
      }
    }
  }
}
