package io.agserver.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import io.agserver.AGAction;
import io.agserver.AGRequest;
import io.agserver.AGServerSocket;
import io.agserver.middleware.MiddlewareType;
import io.agserver.protocol.AGError;
import io.agserver.pubsub.HistoryPage;
import io.agserver.pubsub.PresenceMember;
import io.agserver.pubsub.Publication;
import io.agserver.pubsub.StreamPosition;

/**
 * {@code #history} and {@code #presence}, procedures the server answers itself. Reading a channel
 * needs what subscribing to it needs: inbound middleware sees a SUBSCRIBE action for the channel,
 * whose {@link AGAction#procedure()} says which read it is, so a rule that guards a channel guards
 * its history and presence too. Answered as the original answers its own procedures: errors as
 * SocketCluster errors, then the request handed to the socket's procedure stream.
 */
final class ChannelReads {

  private final SocketContext socket;
  private final ServerContext server;

  ChannelReads(SocketContext socket) {
    this.socket = socket;
    this.server = socket.server();
  }

  /** {@code {channel, since?: {offset, epoch}, limit?}} to {@code {epoch, offset, publications}}. */
  CompletionStage<Void> history(Object cid, Object data, boolean hasData, AGError authTokenExpiredError) {
    return read("#history", cid, data, hasData, authTokenExpiredError, (channel, map) -> {
      StreamPosition since = null;
      if (map.containsKey("since") && map.get("since") != null) {
        since = position(map.get("since"));
        if (since == null) {
          throw AGError.invalidAction("#history: since must be {offset, epoch}, an offset >= 0 and an epoch string");
        }
      }
      int limit = 0;
      if (map.get("limit") != null) {
        if (!(map.get("limit") instanceof Number number) || number.doubleValue() < 0
            || number.doubleValue() != Math.floor(number.doubleValue())) {
          throw AGError.invalidAction("#history: limit must be a whole number >= 0");
        }
        limit = (int) Math.min(Integer.MAX_VALUE, number.longValue());
      }
      return server.exchange().history(channel, since, limit).thenApply(ChannelReads::answer);
    });
  }

  /** {@code {channel}} to {@code {members: [{id, user}]}}. */
  CompletionStage<Void> presence(Object cid, Object data, boolean hasData, AGError authTokenExpiredError) {
    return read("#presence", cid, data, hasData, authTokenExpiredError,
        (channel, map) -> server.exchange().presence(channel).thenApply(ChannelReads::answer));
  }

  private interface Reader {
    CompletionStage<Object> read(String channel, Map<?, ?> data);
  }

  private CompletionStage<Void> read(String procedure, Object cid, Object data, boolean hasData,
      AGError authTokenExpiredError, Reader reader) {
    if (cid == null) {
      // Without a cid there is nobody to answer: the packet just reaches the receiver.
      socket.writeReceiver(procedure, hasData ? data : io.agserver.protocol.Undefined.INSTANCE);
      return done();
    }
    AGRequest request = socket.request(cid, procedure, data, hasData);
    if (!AGServerSocket.OPEN.equals(socket.state())) {
      return fail(procedure, request, AGError.invalidAction(
          "Cannot read a channel before the socket has completed the handshake"));
    }
    if (!(data instanceof Map<?, ?> map) || !(map.get("channel") instanceof String channel)) {
      return fail(procedure, request, AGError.invalidAction(procedure + ": the channel name was malformatted"));
    }
    if (!socket.hasMiddleware(MiddlewareType.INBOUND)) {
      return answer(procedure, request, reader, channel, map);
    }
    AGAction action = AGAction.builder(AGAction.SUBSCRIBE).socket(socket.socket()).channel(channel)
        .procedure(procedure).data(data).authTokenExpiredError(authTokenExpiredError).build();
    return socket.middleware(MiddlewareType.INBOUND, action).handle((ok, blocked) -> {
      if (blocked != null) {
        request.error(Failures.unwrap(blocked));
        socket.writeProcedure(procedure, request);
        return done();
      }
      return answer(procedure, request, reader, channel, map);
    }).thenCompose(next -> next);
  }

  private CompletionStage<Void> answer(String procedure, AGRequest request, Reader reader, String channel, Map<?, ?> map) {
    CompletionStage<Object> answer;
    try {
      answer = reader.read(channel, map);
    } catch (RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    return answer.handle((result, failure) -> {
      if (failure != null) {
        Throwable error = Failures.unwrap(failure);
        socket.emitError(error);
        request.error(error);
      } else {
        request.end(result);
      }
      socket.writeProcedure(procedure, request);
      return null;
    });
  }

  private CompletionStage<Void> fail(String procedure, AGRequest request, AGError error) {
    socket.emitError(error);
    request.error(error);
    socket.writeProcedure(procedure, request);
    return done();
  }

  /** A client's position: {@code {offset, epoch}}, null when malformed. */
  static StreamPosition position(Object raw) {
    if (!(raw instanceof Map<?, ?> map) || !(map.get("epoch") instanceof String epoch)
        || !(map.get("offset") instanceof Number offset)) {
      return null;
    }
    double value = offset.doubleValue();
    if (value < 0 || value != Math.floor(value) || value > 9.007199254740991E15) {
      return null;
    }
    return new StreamPosition(offset.longValue(), epoch);
  }

  private static Object answer(HistoryPage page) {
    List<Object> publications = new ArrayList<>(page.publications().size());
    for (Publication publication : page.publications()) {
      Map<String, Object> entry = new LinkedHashMap<>(4);
      entry.put("offset", publication.offset());
      entry.put("data", publication.data());
      publications.add(entry);
    }
    Map<String, Object> out = new LinkedHashMap<>(4);
    out.put("epoch", page.epoch());
    out.put("offset", page.offset());
    out.put("publications", publications);
    return out;
  }

  private static Object answer(List<PresenceMember> members) {
    List<Object> list = new ArrayList<>(members.size());
    for (PresenceMember member : members) {
      Map<String, Object> entry = new LinkedHashMap<>(4);
      entry.put("id", member.id());
      entry.put("user", member.user());
      list.add(entry);
    }
    return Map.of("members", list);
  }

  private static CompletableFuture<Void> done() {
    return CompletableFuture.completedFuture(null);
  }
}
