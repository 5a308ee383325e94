package io.agserver.ops.admin;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.servlet.http.HttpServletRequest;

import io.agserver.AGServer;
import io.agserver.core.AGScheduler;
import io.agserver.core.Connections;
import io.agserver.ops.ClientAddress;
import io.agserver.ops.InstanceSummary;
import io.agserver.ops.ServerFigures;

/**
 * The admin page's side of a running server, there only while {@code socketcluster.admin.password}
 * is set: the password check and the throttle of wrong ones, the history of the figures for the
 * chart, and this instance's identity and summary, which it shares with the other instances
 * through the broker engine.
 *
 * <p>Every {@value #SAMPLE_INTERVAL_MS} ms a job on the server's workers (handed there by the
 * timer, which runs none of it) takes a sample of the figures, writes the summary of refused
 * passwords when one is due, and announces this instance to the others for
 * {@link #ANNOUNCE_TTL}; a dead instance so leaves their lists within that time.
 */
public final class AdminConsole implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(AdminConsole.class.getName());

  static final long SAMPLE_INTERVAL_MS = 2_000;
  /** Ten minutes of samples. */
  static final int SAMPLES = 300;
  /** Five missed announcements and an instance is off the others' lists. */
  static final Duration ANNOUNCE_TTL = Duration.ofSeconds(10);

  private final AGServer server;
  private final AGScheduler scheduler;
  /** {@code socketcluster.clientAddressHeader}, or null. */
  private final String addressHeader;
  private final AdminCredentials credentials;
  private final LoginThrottle throttle;
  private final FigureHistory history = new FigureHistory(SAMPLES);
  private final String host;
  private final String instanceId;
  private final long startedAt;
  // Set by start(), cancelled by close().
  private volatile ScheduledFuture<?> sampling;
  private volatile boolean announceFailing;

  AdminConsole(AGServer server, AGScheduler scheduler, String password, String host) {
    this.server = server;
    this.scheduler = scheduler;
    this.addressHeader = server.options().limits().clientAddressHeader().orElse(null);
    this.credentials = new AdminCredentials(password);
    this.throttle = new LoginThrottle(scheduler::now);
    this.host = host;
    this.instanceId = host + "-" + randomSuffix();
    this.startedAt = scheduler.now();
  }

  /**
   * The console of the server behind {@code connections}, sampling from now on; null when
   * {@code socketcluster.admin.password} is not set.
   */
  public static AdminConsole start(Connections connections) {
    AGServer server = connections.server();
    var password = server.options().admin().password();
    if (password.isEmpty()) {
      return null;
    }
    AdminConsole console = new AdminConsole(server, connections.scheduler(), password.get(), hostName());
    console.sampling = console.scheduler.every(SAMPLE_INTERVAL_MS, console::tick);
    // The first sample now, so that the page has figures from its first look.
    console.scheduler.execute(console::tick);
    return console;
  }

  /** One turn of the sampler (on a worker). */
  void tick() {
    FigureHistory.Sample sample = history.add(server.figures()::snapshot);
    throttle.summarize();
    server.broker().announceInstance(summary(sample), ANNOUNCE_TTL).whenComplete((ok, error) -> {
      if (error != null) {
        if (!announceFailing) {
          announceFailing = true;
          LOG.log(Level.FINE, "agserver admin: the other instances' pages cannot see this one: " + error.getMessage(),
              error);
        }
      } else {
        announceFailing = false;
      }
    });
  }

  /**
   * This instance as the list of instances shows it: what it holds now, and the rates of
   * {@code sample} (its latest; null before the first: 0).
   */
  InstanceSummary summary(FigureHistory.Sample sample) {
    ServerFigures figures = server.figures();
    long cutOff = figures.cutOffs(ServerFigures.CutOff.OUTBOUND_BUFFER) + figures.cutOffs(ServerFigures.CutOff.SEND_TIMEOUT);
    return new InstanceSummary(instanceId, host, startedAt, scheduler.now(), figures.live().connections(),
        figures.live().channels(), sample == null ? 0 : sample.messagesInPerSecond(),
        sample == null ? 0 : sample.messagesOutPerSecond(), sample == null ? 0 : sample.publishesPerSecond(),
        sample == null ? 0 : sample.deliveriesPerSecond(), cutOff, server.isDraining());
  }

  /** Every instance's latest summary (this one's from the latest sample); completes on a worker. */
  CompletionStage<List<InstanceSummary>> instances() {
    return server.broker().instances(summary(history.latest()));
  }

  /**
   * The address a request comes from: the connection's, or the proxy's header when
   * {@code socketcluster.clientAddressHeader} is set (whether or not a connection limit is).
   */
  String clientAddress(HttpServletRequest request) {
    return ClientAddress.of(request.getRemoteAddr(), addressHeader,
        addressHeader == null ? null : Collections.list(request.getHeaders(addressHeader)));
  }

  AGServer server() {
    return server;
  }

  AGScheduler scheduler() {
    return scheduler;
  }

  AdminCredentials credentials() {
    return credentials;
  }

  LoginThrottle throttle() {
    return throttle;
  }

  FigureHistory history() {
    return history;
  }

  String instanceId() {
    return instanceId;
  }

  String host() {
    return host;
  }

  long startedAt() {
    return startedAt;
  }

  /** Stops sampling (the application stops); this instance then fades from the others' lists. */
  @Override
  public void close() {
    ScheduledFuture<?> task = sampling;
    if (task != null) {
      task.cancel(false);
    }
  }

  /**
   * The name of the host (in Kubernetes, the pod): HOSTNAME when the environment has it, else the
   * name the JVM finds for its address.
   */
  static String hostName() {
    String name = System.getenv("HOSTNAME");
    if (name == null || name.isBlank()) {
      try {
        name = InetAddress.getLocalHost().getHostName();
      } catch (java.io.IOException | RuntimeException e) {
        name = "agserver";
      }
    }
    return name.strip().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]", "-");
  }

  /** Four base-36 characters: instances on one host (several JVMs, restarts) get ids of their own. */
  private static String randomSuffix() {
    String digits = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36), 36);
    return "0".repeat(4 - digits.length()) + digits;
  }
}
