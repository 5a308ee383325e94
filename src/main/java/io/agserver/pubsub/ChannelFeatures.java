package io.agserver.pubsub;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;

import io.agserver.config.ChannelFeatureOptions;

/**
 * Which channels keep history and which track presence: the rules of the configuration
 * ({@code socketcluster.history.channels}, {@code socketcluster.presence.channels}) and those
 * added from Java, a later rule winning over an earlier one for a channel both match. A channel
 * that no rule names costs one look at an empty list.
 */
public final class ChannelFeatures {

  /** Presence notifications of channel {@code c} are published on {@code PRESENCE_PREFIX + c}. */
  public static final String PRESENCE_PREFIX = "#presence:";

  /**
   * The channels of the server's own warm-up connections (README, "Warm start"): no rule applies
   * to them, so that a warm-up leaves no history and no presence behind.
   */
  public static final String WARM_UP_PREFIX = "#agserver-warm-up/";

  private record HistoryRule(Pattern pattern, HistoryOptions options) {}

  private final List<HistoryRule> history = new CopyOnWriteArrayList<>();
  private final List<Pattern> presence = new CopyOnWriteArrayList<>();
  private final HistoryOptions defaults;
  private final String userClaim;
  private final Duration presenceTtl;

  public ChannelFeatures(ChannelFeatureOptions options) {
    this.defaults = new HistoryOptions(options.historySize(), Duration.ofSeconds(options.historyTtl()));
    this.userClaim = options.presenceUserClaim();
    this.presenceTtl = Duration.ofSeconds(options.presenceTtl());
    for (String pattern : options.historyChannels()) {
      keepHistory(pattern, defaults);
    }
    for (String pattern : options.presenceChannels()) {
      trackPresence(pattern);
    }
  }

  /** Channels matching {@code pattern} keep history as {@code options} says. */
  public void keepHistory(String pattern, HistoryOptions options) {
    history.add(new HistoryRule(glob(pattern), options));
  }

  /** Channels matching {@code pattern} keep history with the configured size and ttl. */
  public void keepHistory(String pattern) {
    keepHistory(pattern, defaults);
  }

  /** Channels matching {@code pattern} track presence. */
  public void trackPresence(String pattern) {
    presence.add(glob(pattern));
  }

  /** The history of the channel, or null when it keeps none. */
  public HistoryOptions historyOf(String channel) {
    if (history.isEmpty() || channel.startsWith(WARM_UP_PREFIX)) {
      return null;
    }
    for (int i = history.size() - 1; i >= 0; i--) {
      HistoryRule rule = history.get(i);
      if (rule.pattern().matcher(channel).matches()) {
        return rule.options();
      }
    }
    return null;
  }

  public boolean tracksPresence(String channel) {
    if (presence.isEmpty() || channel.startsWith(PRESENCE_PREFIX) || channel.startsWith(WARM_UP_PREFIX)) {
      return false;
    }
    for (Pattern pattern : presence) {
      if (pattern.matcher(channel).matches()) {
        return true;
      }
    }
    return false;
  }

  /** The auth token claim a presence member's {@code user} is. */
  public String userClaim() {
    return userClaim;
  }

  public Duration presenceTtl() {
    return presenceTtl;
  }

  /** {@code *} matches any run of characters; everything else matches itself. */
  static Pattern glob(String pattern) {
    List<String> parts = new java.util.ArrayList<>();
    for (String literal : pattern.split("\\*", -1)) {
      parts.add(literal.isEmpty() ? "" : Pattern.quote(literal));
    }
    return Pattern.compile(String.join(".*", parts), Pattern.DOTALL);
  }
}
