package io.agserver.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * One bad client never stalls or closes another, and never leaks a socket entry: while other
 * sockets send garbage, oversized frames, invalid UTF-8 and protocol errors, stop reading, or
 * never complete their handshake, a well-behaved socket's calls keep being answered, in order,
 * and afterwards {@code clientsCount} and {@code pendingClientsCount} are back where they were.
 * (How fast is not asserted: a loaded machine decides that. A call that is never answered fails,
 * and a stuck socket here stays stuck until the end, so a call waiting on it would never be.)
 */
class IsolationIT {

  private static final int MAX_PAYLOAD = 1024 * 1024;

  @Test
  void abusiveSocketsDoNotDisturbAWellBehavedOne() throws Exception {
    ExecutorService abusers = Executors.newCachedThreadPool();
    List<RawWebSocket> opened = Collections.synchronizedList(new ArrayList<>());
    try (RawWebSocket good = RawWebSocket.connect()) {
      Counts before = Counts.settled(good);

      List<Future<?>> abuse = new ArrayList<>();
      // Garbage: raw messages, junk batches, calls nobody answers (these sockets stay open).
      for (int i = 0; i < 4; i++) {
        abuse.add(abusers.submit(() -> {
          RawWebSocket ws = track(opened, RawWebSocket.connect()).answerPings();
          for (int j = 0; j < 200; j++) {
            ws.sendText(j % 3 == 0 ? "{bad json" : j % 3 == 1 ? "[1,\"x\",{\"y\":2}]" : "{\"event\":\"nobody\",\"cid\":" + j + "}");
          }
          return null;
        }));
      }
      // Oversized frames (1009), invalid UTF-8 (1007), unmasked frames (1002), bad handshakes (4008, 4009).
      for (int i = 0; i < 4; i++) {
        abuse.add(abusers.submit(() -> closesWith(1009, track(opened, RawWebSocket.connect()),
            ws -> ws.sendRefused(RawWebSocket.TEXT, filled(MAX_PAYLOAD + 1)))));
        abuse.add(abusers.submit(() -> closesWith(1007, track(opened, RawWebSocket.connect()),
            ws -> ws.sendText(new byte[] {'"', (byte) 0xff, '"'}))));
        abuse.add(abusers.submit(() -> closesWith(1002, track(opened, RawWebSocket.connect()),
            ws -> ws.writeFrame(RawWebSocket.TEXT, true, "hello".getBytes(StandardCharsets.UTF_8), false))));
        abuse.add(abusers.submit(() -> closesWith(4008, track(opened, RawWebSocket.open()),
            ws -> ws.sendText("{\"event\":\"#handshake\"}"))));
        abuse.add(abusers.submit(() -> closesWith(4009, track(opened, RawWebSocket.open()),
            ws -> ws.sendText("hello"))));
      }
      // Pending sockets that never send their #handshake (counted in pendingClientsCount).
      List<Future<RawWebSocket>> pending = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        pending.add(abusers.submit(() -> track(opened, RawWebSocket.open())));
      }
      abuse.addAll(pending);
      // A socket that stops reading while asking for 16 MiB of answers (below outboundBufferLimit).
      abuse.add(abusers.submit(() -> {
        RawWebSocket ws = track(opened, RawWebSocket.openWithReceiveBuffer(16 * 1024));
        ws.handshake();
        ws.stopReading();
        String data = "y".repeat(MAX_PAYLOAD - 100);
        for (int j = 0; j < 16; j++) {
          ws.send("echo", data);
        }
        return null;
      }));

      List<RawWebSocket> silent = new ArrayList<>();
      for (Future<RawWebSocket> f : pending) {
        silent.add(f.get(30, TimeUnit.SECONDS));
      }
      // They are pending until their handshakeTimeout (2 s) closes them; other abusers may be too,
      // briefly. The container may answer an upgrade before it opens the session: poll until all
      // ten are counted, which must happen before the first of them is closed.
      Counts opening = await("10 sockets without a handshake counted as pending")
          .atMost(Duration.ofSeconds(30)).pollInSameThread().pollInterval(Duration.ofMillis(25))
          .failFast("a socket without a handshake was closed before all 10 were counted as pending",
              () -> silent.stream().anyMatch(RawWebSocket::ended))
          .until(() -> Counts.of(good), counts -> counts.pending() >= before.pending() + 10);

      // Meanwhile and after: the good socket's calls are answered, in order, for as long as the
      // abuse lasts: until every abuser is through and the silent sockets' handshakeTimeout ended
      // them. The latencies are reported, not judged.
      List<Long> latencies = new ArrayList<>();
      int n = 0;
      do {
        long start = System.nanoTime();
        assertEquals("ping " + n, good.call("echo", "ping " + n));
        latencies.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        n++;
      } while (abuse.stream().anyMatch(f -> !f.isDone()) || !silent.stream().allMatch(RawWebSocket::ended));
      for (Future<?> f : abuse) {
        f.get(30, TimeUnit.SECONDS); // rethrows a failed expectation of an abuser
      }
      for (RawWebSocket ws : silent) {
        RawWebSocket.Frame close = ws.awaitClose(30_000);
        assertEquals(4005, close.code(), "a socket that never sent its handshake: " + close);
      }
      assertTrue(good.seen().stream().noneMatch(RawWebSocket.Frame::isClose), "the good socket is open");

      // The garbage senders (they answer pings) are still connected and counted.
      Counts during = Counts.of(good);
      assertTrue(during.clients() >= before.clients() + 4, "4 garbage senders still open: " + during);

      for (RawWebSocket ws : opened) {
        ws.close();
      }
      Counts.awaitBack(good, before, 10_000);
      assertEquals("after", good.call("echo", "after"));

      List<Long> sorted = new ArrayList<>(latencies);
      Collections.sort(sorted);
      System.out.println("IsolationIT: " + latencies.size() + " echoes during abuse, median "
          + sorted.get(sorted.size() / 2) + " ms, max " + sorted.get(sorted.size() - 1) + " ms ("
          + opening + " while the silent sockets were pending)");
    } finally {
      for (RawWebSocket ws : opened) {
        ws.close();
      }
      abusers.shutdownNow();
    }
  }

  private interface Abuse {
    void apply(RawWebSocket ws) throws Exception;
  }

  private static RawWebSocket track(List<RawWebSocket> opened, RawWebSocket ws) {
    opened.add(ws);
    return ws;
  }

  private static Void closesWith(int code, RawWebSocket ws, Abuse abuse) throws Exception {
    abuse.apply(ws);
    RawWebSocket.Frame close = ws.awaitClose(5000);
    assertEquals(code, close.code(), "close: " + close);
    return null;
  }

  private static byte[] filled(int n) {
    byte[] bytes = new byte[n];
    Arrays.fill(bytes, (byte) 'z');
    return bytes;
  }
}
