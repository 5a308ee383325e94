package io.agserver.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.agserver.pubsub.HistoryPage;
import io.agserver.pubsub.Publication;
import io.agserver.pubsub.StreamPosition;

/**
 * A socket's subscription to a history channel made with {@code {recover: position}}: every
 * publication reaches the client as {@code {offset, epoch, data}}, and what it missed since
 * {@code position} comes first.
 *
 * <p>From the subscribe until the replay starts, live publications wait here (at most
 * {@code limit}); then, under this object's monitor so that no live one overtakes: the missed
 * publications in order, a marker {@code {offset, epoch, recovered}} (no {@code data}: the
 * position the client now has, and whether nothing was lost), the waiting ones later than the
 * replay (none twice), and from then on each as it comes. When the position cannot be recovered
 * (another epoch, publications no longer kept, or more waited than the bound) the marker says
 * {@code recovered: false} and the application reloads.
 */
public final class RecoveringSubscription {

  private record Waiting(Object data, StreamPosition position) {}

  private final SocketContext socket;
  private final String channel;
  private final int limit;
  // Null once live.
  private List<Waiting> waiting = new ArrayList<>();
  private boolean overflowed;
  // The latest position seen while waiting (sent or not), and once live the latest sent: a
  // delivery that was on its way when the history was read comes again, and is dropped here.
  private StreamPosition last;

  RecoveringSubscription(SocketContext socket, String channel, int limit) {
    this.socket = socket;
    this.channel = channel;
    this.limit = limit;
  }

  /** A live publication: sent, or kept until the replay when that has not started. */
  public synchronized void offer(Object data, StreamPosition position) {
    if (waiting == null) {
      if (last != null && last.epoch().equals(position.epoch()) && position.offset() <= last.offset()) {
        return;
      }
      last = position;
      socket.deliverPositioned(channel, data, position);
      return;
    }
    if (last == null || !last.epoch().equals(position.epoch()) || position.offset() > last.offset()) {
      last = position;
    }
    if (waiting.size() < limit) {
      waiting.add(new Waiting(data, position));
    } else {
      overflowed = true;
    }
  }

  /**
   * Sends {@code missed} (the publications after the client's position; none when it had none),
   * the marker at {@code at}, the publications that arrived meanwhile, and goes live. When more
   * arrived meanwhile than could wait, they are dropped and the marker says
   * {@code recovered: false} at the latest position seen: the client reloads up to there and
   * nothing after it is lost.
   */
  synchronized void start(List<Publication> missed, StreamPosition at, boolean recovered) {
    if (overflowed) {
      StreamPosition marker = last != null && last.epoch().equals(at.epoch()) && last.offset() > at.offset() ? last : at;
      waiting = null;
      last = marker;
      sendMarker(marker, false);
      return;
    }
    for (Publication publication : missed) {
      socket.deliverPositioned(channel, publication.data(), new StreamPosition(publication.offset(), at.epoch()));
    }
    sendMarker(at, recovered);
    StreamPosition sent = at;
    // By index, and still waiting: a delivery (outbound middleware) may publish on this channel,
    // and what comes back here meanwhile joins the end of the list, in order.
    for (int i = 0; i < waiting.size(); i++) {
      Waiting live = waiting.get(i);
      if (!live.position().epoch().equals(sent.epoch()) || live.position().offset() > sent.offset()) {
        sent = live.position();
        socket.deliverPositioned(channel, live.data(), live.position());
      }
    }
    waiting = null;
    last = sent;
  }

  private void sendMarker(StreamPosition at, boolean recovered) {
    Map<String, Object> marker = new LinkedHashMap<>(4);
    marker.put("offset", at.offset());
    marker.put("epoch", at.epoch());
    marker.put("recovered", recovered);
    socket.sendAfterPublishes(io.agserver.pubsub.AGSimpleBroker.publishPacket(channel, marker));
  }

  /** The replay from a history page read after the subscription was confirmed. */
  void start(HistoryPage page, boolean replay) {
    start(replay ? page.publications() : List.of(), page.position(), true);
  }
}
