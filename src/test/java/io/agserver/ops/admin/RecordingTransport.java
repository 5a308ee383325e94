package io.agserver.ops.admin;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import io.agserver.transport.AGTransport;

/** A transport that records what is sent and how it closed; every send completes at once. */
final class RecordingTransport implements AGTransport {

  final List<String> texts = new CopyOnWriteArrayList<>();
  volatile Integer closeCode;
  volatile String closeReason;

  @Override
  public void sendText(String text, Consumer<Throwable> done) {
    texts.add(text);
    done.accept(null);
  }

  @Override
  public void sendBinary(java.nio.ByteBuffer data, Consumer<Throwable> done) {
    done.accept(null);
  }

  @Override
  public void close(int code, String reason) {
    if (closeCode == null) {
      closeReason = reason;
      closeCode = code;
    }
  }

  @Override
  public void terminate() {}
}
