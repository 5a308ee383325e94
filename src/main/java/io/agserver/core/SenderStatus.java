package io.agserver.core;

/**
 * What a transport's sender threads (the blocking writes of frames) are doing: read by the
 * liveness check, cheap enough to read on every probe.
 *
 * @param threads sender threads alive
 * @param writing of those, the ones in a write right now
 * @param queued sends waiting for a sender
 * @param stalledMillis how long sends have waited with no write finishing (0 while none waits);
 *     every write past {@code socketcluster.sendTimeout} is ended, so on a working server this
 *     stays below that
 * @param waitingForWindow sends waiting, with no thread, for a client's full TCP window to take
 *     data (clients that stopped reading, on Open Liberty)
 */
public record SenderStatus(int threads, int writing, int queued, long stalledMillis, int waitingForWindow) {

  public SenderStatus(int threads, int writing, int queued, long stalledMillis) {
    this(threads, writing, queued, stalledMillis, 0);
  }
}
