package io.agserver.ops;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

import io.agserver.core.ServerStatus;

/** Liveness: the timer sweep runs (see {@link ServerHealth}). */
@Liveness
@ApplicationScoped
public class TimerCheck implements HealthCheck {

  private ServerHealth health;

  /** For CDI's proxy. */
  protected TimerCheck() {}

  @Inject
  TimerCheck(ServerStatus status, WarmUp warmUp) {
    this.health = new ServerHealth(status, warmUp::state);
  }

  @Override
  public HealthCheckResponse call() {
    return health.timer();
  }
}
