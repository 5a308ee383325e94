package io.agserver;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import io.agserver.transport.AGTransport;

/** A transport that records frames and closes; sends complete at once unless held. */
final class FakeTransport implements AGTransport {

  final List<String> texts = new CopyOnWriteArrayList<>();
  final List<ByteBuffer> binaries = new CopyOnWriteArrayList<>();
  /** Text frames and the close, in the order they went out ("close 1001" for a close). */
  final List<String> wire = new CopyOnWriteArrayList<>();
  volatile Integer closeCode;
  volatile String closeReason;
  volatile boolean terminated;
  private volatile boolean hold;
  private final List<Runnable> held = new ArrayList<>();

  @Override
  public void sendText(String text, Consumer<Throwable> done) {
    send(() -> {
      texts.add(text);
      wire.add(text);
      done.accept(null);
    });
  }

  @Override
  public void sendBinary(ByteBuffer data, Consumer<Throwable> done) {
    send(() -> {
      binaries.add(data);
      done.accept(null);
    });
  }

  private void send(Runnable completion) {
    synchronized (held) {
      if (hold) {
        held.add(completion);
        return;
      }
    }
    completion.run();
  }

  /** Sends stay in flight until {@link #release}. */
  void hold() {
    hold = true;
  }

  void release() {
    List<Runnable> pending;
    synchronized (held) {
      hold = false;
      pending = new ArrayList<>(held);
      held.clear();
    }
    pending.forEach(Runnable::run);
  }

  @Override
  public void close(int code, String reason) {
    if (closeCode == null) {
      closeReason = reason;
      wire.add("close " + code);
      closeCode = code;
    }
  }

  @Override
  public void terminate() {
    terminated = true;
  }

  /** Text frames that are not pings. */
  List<String> packets() {
    return texts.stream().filter(t -> !t.isEmpty() && !t.equals("#1")).toList();
  }

  long pings() {
    return texts.stream().filter(t -> t.isEmpty() || t.equals("#1")).count();
  }
}
