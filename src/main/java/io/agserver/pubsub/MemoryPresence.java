package io.agserver.pubsub;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The memory engine's presence: per channel its members by socket id, in the order they joined.
 * One instance holds them all, so none expires: a socket leaves when it unsubscribes or closes.
 * Each channel's change is one compute step; an emptied channel is dropped.
 */
final class MemoryPresence {

  private final ConcurrentHashMap<String, Map<String, PresenceMember>> channels = new ConcurrentHashMap<>();

  void join(String channel, PresenceMember member) {
    channels.compute(channel, (name, members) -> {
      Map<String, PresenceMember> held = members == null ? new LinkedHashMap<>() : members;
      held.put(member.id(), member);
      return held;
    });
  }

  void leave(String channel, String memberId) {
    channels.computeIfPresent(channel, (name, members) -> {
      members.remove(memberId);
      return members.isEmpty() ? null : members;
    });
  }

  List<PresenceMember> members(String channel) {
    List<PresenceMember> out = new ArrayList<>();
    channels.computeIfPresent(channel, (name, members) -> {
      out.addAll(members.values());
      return members;
    });
    return out;
  }
}
