package io.agserver.ops;

import java.net.URI;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.ConfigProvider;

import io.agserver.config.WarmUpOptions;
import io.agserver.core.ServerStatus;

/**
 * The warm start (README, "Warm start"): a fresh JVM handles a fraction of its warm handshake
 * rate while its JIT compiles the hot paths, so before the server reports ready it drives those
 * paths itself for {@code socketcluster.warmUp} milliseconds, with WebSocket connections to its
 * own port ({@link WarmUpRun}). Started asynchronously once the endpoint is registered, so that
 * deployment does not wait for it; readiness is DOWN until it is over (done, skipped because no
 * port is known, or failed because the port never answered: both logged as warnings).
 */
@ApplicationScoped
public class WarmUp {

  private static final Logger LOG = Logger.getLogger(WarmUp.class.getName());

  /** Where a warm-up is. */
  public enum Phase { OFF, RUNNING, DONE, SKIPPED, FAILED }

  /** A phase and what it says (why it was skipped or failed, what it did). */
  public record State(Phase phase, String detail, long handshakes) {

    /** Whether readiness may be UP as far as the warm-up goes. */
    public boolean over() {
      return phase != Phase.RUNNING;
    }

    /** "off", "running", "done", "skipped: why", "failed: why". */
    public String description() {
      String name = phase.name().toLowerCase(java.util.Locale.ROOT);
      return (phase == Phase.SKIPPED || phase == Phase.FAILED) && detail != null ? name + ": " + detail : name;
    }
  }

  @Inject
  ServerStatus status;

  private volatile State state;
  private volatile WarmUpRun run;

  @PostConstruct
  void init() {
    // Running from the start when it is on: readiness waits for start() and what follows.
    state = options().enabled() ? new State(Phase.RUNNING, "not started", 0) : new State(Phase.OFF, null, 0);
  }

  private WarmUpOptions options() {
    return status.server().options().warmUp();
  }

  /**
   * Starts the warm-up, if it is on, against the server's endpoint under {@code contextPath} (the
   * application's context root); returns at once.
   */
  public void start(String contextPath) {
    WarmUpOptions options = options();
    if (!options.enabled() || run != null) {
      return;
    }
    var config = ConfigProvider.getConfig();
    Optional<URI> target = WarmUpTarget.resolve(options, key -> {
      try {
        return config.getOptionalValue(key, String.class);
      } catch (RuntimeException e) {
        return Optional.empty();
      }
    }, contextPath, status.server().path());
    if (target.isEmpty()) {
      String why = "the server's HTTP port is not known (set socketcluster.warmUp.port)";
      LOG.warning("agserver: no warm-up: " + why);
      state = new State(Phase.SKIPPED, why, 0);
      return;
    }
    URI uri = target.get();
    LOG.info(() -> "agserver: warming up for " + options.millis() + " ms on " + uri);
    WarmUpRun started = new WarmUpRun(status, uri, options.millis());
    run = started;
    state = new State(Phase.RUNNING, uri.toString(), 0);
    started.start().whenComplete((outcome, failure) -> finished(outcome, failure));
  }

  private void finished(WarmUpRun.Outcome outcome, Throwable failure) {
    if (failure != null) {
      LOG.log(Level.WARNING, "agserver: the warm-up failed", failure);
      state = new State(Phase.FAILED, String.valueOf(failure), 0);
      return;
    }
    if (!outcome.reached()) {
      LOG.warning("agserver: no warm-up: " + outcome.why() + " (last failure: " + outcome.lastFailure()
          + "); set socketcluster.warmUp.port / warmUp.host, or socketcluster.warmUp=0");
      state = new State(Phase.FAILED, outcome.why(), 0);
      return;
    }
    String summary = outcome.handshakes() + " handshakes, " + outcome.calls() + " calls, " + outcome.publishes()
        + " publishes (" + outcome.deliveries() + " deliveries) in " + outcome.millis() + " ms"
        + (outcome.failures() > 0 ? ", " + outcome.failures() + " failed (last: " + outcome.lastFailure() + ")" : "");
    LOG.info(() -> "agserver: warm-up done: " + summary);
    state = new State(Phase.DONE, summary, outcome.handshakes());
  }

  /** Where the warm-up is now. */
  public State state() {
    State current = state;
    WarmUpRun running = run;
    if (current.phase() == Phase.RUNNING && running != null) {
      return new State(Phase.RUNNING, current.detail(), running.handshakes());
    }
    return current;
  }

  @PreDestroy
  void stop() {
    WarmUpRun running = run;
    if (running != null) {
      running.stop();
    }
  }
}
