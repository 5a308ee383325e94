package io.agserver.bench;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

import io.agserver.transport.AGTransport;

/**
 * A transport whose sends complete at once, on the calling thread, as a container's would when
 * its buffer has room: it only counts the frames and keeps the last one, so a benchmark measures
 * the server's own path up to the transport and nothing behind it.
 */
final class BenchTransport implements AGTransport {

  long frames;
  long chars;
  String lastText;
  volatile Integer closeCode;
  volatile boolean terminated;

  @Override
  public void sendText(String text, Consumer<Throwable> done) {
    frames++;
    chars += text.length();
    lastText = text;
    done.accept(null);
  }

  @Override
  public void sendBinary(ByteBuffer data, Consumer<Throwable> done) {
    frames++;
    chars += data.remaining();
    done.accept(null);
  }

  @Override
  public void close(int code, String reason) {
    if (closeCode == null) {
      closeCode = code;
    }
  }

  @Override
  public void terminate() {
    terminated = true;
  }
}
