package io.agserver.config;

import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

import org.eclipse.microprofile.config.Config;

/**
 * The AGServer constructor options, read from MicroProfile Config as {@code socketcluster.<option>}
 * with the defaults of the original server. A value that does not parse or is out of range fails
 * the deployment with an {@link IllegalArgumentException} naming the key.
 */
public record AGServerOptions(
    String path,
    long ackTimeout,
    long handshakeTimeout,
    long pingInterval,
    long pingTimeout,
    boolean pingTimeoutDisabled,
    boolean strictHandshake,
    int protocolVersion,
    String origins,
    Integer socketChannelLimit,
    boolean allowClientPublish,
    boolean middlewareEmitFailures,
    boolean batchOnHandshake,
    long batchOnHandshakeDuration,
    long batchInterval,
    CleanupMode socketStreamCleanupMode,
    long maxPayload,
    long outboundBufferLimit,
    int inboundBufferLimit,
    boolean outboundCoalescing,
    int senderThreads,
    boolean perMessageDeflate,
    String brokerEngine,
    RedisOptions redis,
    ChannelFeatureOptions channelFeatures,
    LimitOptions limits,
    AdminOptions admin,
    Optional<String> authKey,
    Optional<String> authPrivateKey,
    Optional<String> authPublicKey,
    Optional<String> authAlgorithm,
    Optional<String> authVerifyAlgorithms,
    long authDefaultExpiry,
    AuthExpiryCheck authExpiryCheck,
    long sendTimeout,
    long drainTime,
    WarmUpOptions warmUp,
    String host,
    Integer sourcePort,
    boolean secure) {

  public static final String PREFIX = "socketcluster.";

  /**
   * 8 MiB. Node's server takes ws's default, 100 MiB, which lets every client make the server hold
   * 100 MiB (200 MiB as a Java string) for one message: no realtime message needs that, and one
   * that does is a configuration choice (socketcluster.maxPayload=104857600 is Node's).
   */
  public static final long DEFAULT_MAX_PAYLOAD = 8L * 1024 * 1024;

  /**
   * 4 Mi characters waiting for a client that does not read, on top of the frame being sent (one
   * frame alone may be larger). Seconds of a busy channel for a client that reads slowly; a client
   * that stops reading is cut by the send time limit or by this, so 1,000 such clients hold at
   * most about 4 GB in the worst case (Latin-1 text is a byte a character), not 64 GB.
   */
  public static final long DEFAULT_OUTBOUND_BUFFER_LIMIT = 4L * 1024 * 1024;

  /**
   * Messages that may wait in one socket's inbound queue while a handler or middleware still holds
   * an earlier one. An official client never has that many in flight unless it ignores its own
   * acknowledgements; past it the client is flooding, and is closed with 1008.
   */
  public static final int DEFAULT_INBOUND_BUFFER_LIMIT = 1000;

  /**
   * Milliseconds one frame's write may take before it is abandoned and the socket closed
   * (agserver's option; the original has none: ws buffers without bound). A write blocks only
   * while the kernel's send buffer and the client's receive window are both full, so on a working
   * link even a 1 MiB frame at 512 kbit/s (16 s) fits; and it is below the default pingTimeout
   * (30 s), so a client that stopped reading holds its sender thread for 20 s, where it took the
   * ping timeout plus the 30 s close timeout before.
   */
  public static final long DEFAULT_SEND_TIMEOUT = 20_000;

  /**
   * Milliseconds over which a stopping server closes its sockets (agserver's option; the original
   * has none). Each socket may then wait up to ackTimeout for the answers it owes, so with the
   * defaults every socket is closed within 20 s of the stop, inside Kubernetes' default grace
   * period of 30 s with room for the runtime's own stop.
   */
  public static final long DEFAULT_DRAIN_TIME = 10_000;

  /** What happens to a socket's streams once it has disconnected. */
  public enum CleanupMode { KILL, CLOSE }

  /**
   * When an expired auth token deauthenticates its socket: PASSIVE when the socket's next
   * message arrives (the original's behaviour), ACTIVE also as soon as the server's timer sweep
   * sees it expire.
   */
  public enum AuthExpiryCheck { PASSIVE, ACTIVE }

  public AGServerOptions {
    requirePositive("ackTimeout", ackTimeout);
    requirePositive("handshakeTimeout", handshakeTimeout);
    requirePositive("pingInterval", pingInterval);
    requirePositive("pingTimeout", pingTimeout);
    requirePositive("batchOnHandshakeDuration", batchOnHandshakeDuration);
    requirePositive("batchInterval", batchInterval);
    requirePositive("maxPayload", maxPayload);
    requirePositive("outboundBufferLimit", outboundBufferLimit);
    requirePositive("inboundBufferLimit", inboundBufferLimit);
    requirePositive("senderThreads", senderThreads);
    requirePositive("authDefaultExpiry", authDefaultExpiry);
    requirePositive("sendTimeout", sendTimeout);
    if (drainTime < 0) {
      throw invalid("drainTime", drainTime, "a number >= 0");
    }
    if (protocolVersion != 1 && protocolVersion != 2) {
      throw invalid("protocolVersion", protocolVersion, "1 or 2");
    }
    if (path == null || !path.startsWith("/")) {
      throw invalid("path", path, "a path starting with /");
    }
    if (socketChannelLimit != null && socketChannelLimit < 0) {
      throw invalid("socketChannelLimit", socketChannelLimit, "a number >= 0");
    }
    if (authPrivateKey.isPresent() != authPublicKey.isPresent()) {
      String missing = authPrivateKey.isPresent() ? "authPublicKey" : "authPrivateKey";
      throw new IllegalArgumentException("The " + PREFIX + missing + " option must be specified if "
          + PREFIX + (authPrivateKey.isPresent() ? "authPrivateKey" : "authPublicKey") + " is specified");
    }
  }

  /**
   * The defaults of socketcluster-server 20's code (where its API page differs, as for
   * pingTimeout and socketChannelLimit, the code wins).
   */
  public static AGServerOptions defaults() {
    return from(key -> Optional.empty());
  }

  public static AGServerOptions fromConfig(Config config) {
    return from(key -> config.getOptionalValue(key, String.class));
  }

  /** Reads every option through {@code lookup}, which maps a full key to its raw value. */
  public static AGServerOptions from(Function<String, Optional<String>> lookup) {
    Reader r = new Reader(lookup);
    return new AGServerOptions(
        r.string("path", "/socketcluster/"),
        r.millis("ackTimeout", 10_000),
        r.millis("handshakeTimeout", 10_000),
        r.millis("pingInterval", 8_000),
        r.millis("pingTimeout", 30_000),
        r.bool("pingTimeoutDisabled", false),
        r.bool("strictHandshake", true),
        (int) r.number("protocolVersion", 2),
        r.string("origins", "*:*"),
        r.optionalInt("socketChannelLimit", null),
        r.bool("allowClientPublish", true),
        r.bool("middlewareEmitFailures", true),
        r.bool("batchOnHandshake", false),
        r.millis("batchOnHandshakeDuration", 400),
        r.millis("batchInterval", 50),
        r.cleanupMode("socketStreamCleanupMode", CleanupMode.KILL),
        r.number("maxPayload", DEFAULT_MAX_PAYLOAD),
        r.number("outboundBufferLimit", DEFAULT_OUTBOUND_BUFFER_LIMIT),
        (int) r.number("inboundBufferLimit", DEFAULT_INBOUND_BUFFER_LIMIT),
        r.bool("outboundCoalescing", false),
        (int) r.number("senderThreads", defaultSenderThreads()),
        r.bool("perMessageDeflate", false),
        r.string("brokerEngine", "memory"),
        new RedisOptions(RedisOptions.split(r.string("redis.uri", RedisOptions.DEFAULT_URI)),
            r.string("redis.prefix", "agserver"), r.bool("redis.cluster", false),
            r.millis("redis.timeout", 5_000), (int) r.number("redis.queueLimit", RedisOptions.DEFAULT_QUEUE_LIMIT)),
        new ChannelFeatureOptions(RedisOptions.split(r.string("history.channels", "")),
            (int) r.number("history.size", 100), r.number("history.ttl", 600),
            RedisOptions.split(r.string("presence.channels", "")), r.string("presence.userClaim", "username"),
            r.number("presence.ttl", 60)),
        limits(r),
        new AdminOptions(r.raw(AdminOptions.PASSWORD)),
        r.optional("authKey"),
        r.optional("authPrivateKey"),
        r.optional("authPublicKey"),
        r.optional("authAlgorithm"),
        r.optional("authVerifyAlgorithms"),
        r.number("authDefaultExpiry", 86_400),
        r.authExpiryCheck("authExpiryCheck", AuthExpiryCheck.PASSIVE),
        r.millis("sendTimeout", DEFAULT_SEND_TIMEOUT),
        r.millis("drainTime", DEFAULT_DRAIN_TIME),
        new WarmUpOptions(r.millis("warmUp", WarmUpOptions.DEFAULT_MILLIS),
            Optional.ofNullable(r.optionalInt("warmUp.port", null)), r.optional("warmUp.host")),
        r.string("host", "localhost"),
        r.optionalInt("sourcePort", null),
        r.bool("secure", false));
  }

  private static LimitOptions limits(Reader r) {
    Integer burst = r.optionalInt(LimitOptions.BURST, null);
    if (burst != null && burst < 1) {
      throw invalid(LimitOptions.BURST, burst, "a number >= 1");
    }
    return new LimitOptions(
        orZero(r.optionalInt(LimitOptions.MAX_CONNECTIONS, null)),
        orZero(r.optionalInt(LimitOptions.MAX_CONNECTIONS_PER_ADDRESS, null)),
        r.optional(LimitOptions.CLIENT_ADDRESS_HEADER),
        r.decimal(LimitOptions.MESSAGES_PER_SECOND, 0),
        orZero(burst),
        orZero(r.optionalInt(LimitOptions.CLOSE_AFTER, null)));
  }

  private static int orZero(Integer value) {
    return value == null ? 0 : value;
  }

  private static void requirePositive(String name, long value) {
    if (value <= 0) {
      throw invalid(name, value, "a number > 0");
    }
  }

  static IllegalArgumentException invalid(String name, Object value, String expected) {
    return new IllegalArgumentException(
        "Invalid value '" + value + "' for " + PREFIX + name + ": expected " + expected);
  }

  /** Parses raw config strings, naming the key in every failure. */
  private record Reader(Function<String, Optional<String>> lookup) {

    Optional<String> optional(String name) {
      return lookup.apply(PREFIX + name).map(String::trim).filter(s -> !s.isEmpty());
    }

    /** The value as it is, spaces included (a password); empty when unset or empty. */
    Optional<String> raw(String name) {
      return lookup.apply(PREFIX + name).filter(s -> !s.isEmpty());
    }

    String string(String name, String fallback) {
      return optional(name).orElse(fallback);
    }

    long number(String name, long fallback) {
      Optional<String> raw = optional(name);
      if (raw.isEmpty()) {
        return fallback;
      }
      try {
        return Long.parseLong(raw.get());
      } catch (NumberFormatException e) {
        throw invalid(name, raw.get(), "a whole number");
      }
    }

    /** A decimal number; "none" (or null, false) for the fallback, as optionalInt. */
    double decimal(String name, double fallback) {
      Optional<String> raw = optional(name);
      if (raw.isEmpty()) {
        return fallback;
      }
      String value = raw.get().toLowerCase(Locale.ROOT);
      if (value.equals("null") || value.equals("none") || value.equals("false")) {
        return fallback;
      }
      try {
        double parsed = Double.parseDouble(value);
        if (Double.isNaN(parsed) || Double.isInfinite(parsed)) {
          throw new NumberFormatException(value);
        }
        return parsed;
      } catch (NumberFormatException e) {
        throw invalid(name, raw.get(), "a number or 'none'");
      }
    }

    long millis(String name, long fallback) {
      return number(name, fallback);
    }

    Integer optionalInt(String name, Integer fallback) {
      Optional<String> raw = optional(name);
      if (raw.isEmpty()) {
        return fallback;
      }
      String value = raw.get().toLowerCase(Locale.ROOT);
      // The original treats a null/false limit as "no limit".
      if (value.equals("null") || value.equals("none") || value.equals("false")) {
        return null;
      }
      try {
        return Integer.valueOf(value);
      } catch (NumberFormatException e) {
        throw invalid(name, raw.get(), "a whole number or 'none'");
      }
    }

    boolean bool(String name, boolean fallback) {
      Optional<String> raw = optional(name);
      if (raw.isEmpty()) {
        return fallback;
      }
      return switch (raw.get().toLowerCase(Locale.ROOT)) {
        case "true" -> true;
        case "false" -> false;
        default -> throw invalid(name, raw.get(), "true or false");
      };
    }

    AuthExpiryCheck authExpiryCheck(String name, AuthExpiryCheck fallback) {
      Optional<String> raw = optional(name);
      if (raw.isEmpty()) {
        return fallback;
      }
      return switch (raw.get().toLowerCase(Locale.ROOT)) {
        case "passive" -> AuthExpiryCheck.PASSIVE;
        case "active" -> AuthExpiryCheck.ACTIVE;
        default -> throw invalid(name, raw.get(), "passive or active");
      };
    }

    CleanupMode cleanupMode(String name, CleanupMode fallback) {
      Optional<String> raw = optional(name);
      if (raw.isEmpty()) {
        return fallback;
      }
      return switch (raw.get().toLowerCase(Locale.ROOT)) {
        case "kill" -> CleanupMode.KILL;
        case "close" -> CleanupMode.CLOSE;
        default -> throw invalid(name, raw.get(), "kill or close");
      };
    }
  }

  /**
   * One sender a core, at least 4. Measured with the server on one core (bench/run, warm): 8
   * senders gave RPC 118,000 req/s with a p99 of 33 ms, 4 gave 122,000 with 17 ms, 2 gave 103,000
   * with 20 ms, and fan-out and channels were the same with 4 as with 8. More threads than cores
   * only take turns writing, which spreads the latency; fewer than 4 leave too few writers while
   * one waits for a slow client's window, before the watchdog adds one.
   */
  static int defaultSenderThreads() {
    return Math.max(4, Runtime.getRuntime().availableProcessors());
  }
}
