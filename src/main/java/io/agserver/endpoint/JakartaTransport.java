package io.agserver.endpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

import jakarta.websocket.CloseReason;
import jakarta.websocket.RemoteEndpoint;
import jakarta.websocket.SendResult;
import jakarta.websocket.Session;

import io.agserver.transport.AGTransport;

/** An {@link AGTransport} over a Jakarta WebSocket session's asynchronous remote. */
final class JakartaTransport implements AGTransport {

  // Close reasons longer than this do not fit a control frame (125 bytes minus the code).
  private static final int MAX_REASON_BYTES = 123;

  private final Session session;
  private final RemoteEndpoint.Async remote;

  JakartaTransport(Session session) {
    this.session = session;
    this.remote = session.getAsyncRemote();
  }

  @Override
  public void sendText(String text, Consumer<Throwable> done) {
    remote.sendText(text, result -> done.accept(failure(result)));
  }

  @Override
  public void sendBinary(ByteBuffer data, Consumer<Throwable> done) {
    remote.sendBinary(data, result -> done.accept(failure(result)));
  }

  private static Throwable failure(SendResult result) {
    return result.isOK() ? null : result.getException();
  }

  @Override
  public void close(int code, String reason) {
    if (!session.isOpen()) {
      return;
    }
    try {
      session.close(new CloseReason(CloseReason.CloseCodes.getCloseCode(code), fit(reason)));
    } catch (IOException | IllegalStateException e) {
      terminate();
    }
  }

  @Override
  public void terminate() {
    try {
      // Jakarta WebSocket has no abort: a 1006-style close is the nearest the API allows.
      if (session.isOpen()) {
        session.close(new CloseReason(CloseReason.CloseCodes.GOING_AWAY, ""));
      }
    } catch (IOException | IllegalStateException e) {
      // Already gone.
    }
  }

  static String fit(String reason) {
    if (reason == null) {
      return "";
    }
    byte[] bytes = reason.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    if (bytes.length <= MAX_REASON_BYTES) {
      return reason;
    }
    int end = reason.length();
    while (reason.substring(0, end).getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_REASON_BYTES) {
      end--;
    }
    return reason.substring(0, end);
  }
}
