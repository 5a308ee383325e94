package io.agserver.config;

import java.util.List;

/**
 * Which channels keep history and which track presence ({@code socketcluster.history.*},
 * {@code socketcluster.presence.*}). Patterns are channel names in which {@code *} matches any
 * run of characters.
 *
 * @param historyChannels  patterns of the channels that keep history (none by default)
 * @param historySize      publications kept per channel
 * @param historyTtl       seconds a channel's history lives after its last publication
 * @param presenceChannels patterns of the channels that track presence (none by default)
 * @param presenceUserClaim the auth token's claim a member's {@code user} is
 * @param presenceTtl      seconds a member of an instance that died stays listed (each instance
 *                         refreshes its own members well within it)
 */
public record ChannelFeatureOptions(List<String> historyChannels, int historySize, long historyTtl,
    List<String> presenceChannels, String presenceUserClaim, long presenceTtl) {

  public ChannelFeatureOptions {
    historyChannels = List.copyOf(historyChannels);
    presenceChannels = List.copyOf(presenceChannels);
    if (historySize < 1) {
      throw AGServerOptions.invalid("history.size", historySize, "a number > 0");
    }
    if (historyTtl < 1) {
      throw AGServerOptions.invalid("history.ttl", historyTtl, "a number of seconds > 0");
    }
    if (presenceUserClaim == null || presenceUserClaim.isBlank()) {
      throw AGServerOptions.invalid("presence.userClaim", presenceUserClaim, "a claim name");
    }
    if (presenceTtl < 3) {
      throw AGServerOptions.invalid("presence.ttl", presenceTtl, "a number of seconds >= 3");
    }
  }

  public static ChannelFeatureOptions defaults() {
    return new ChannelFeatureOptions(List.of(), 100, 600, List.of(), "username", 60);
  }
}
