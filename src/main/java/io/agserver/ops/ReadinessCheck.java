package io.agserver.ops;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import io.agserver.core.ServerStatus;

/** Readiness: deployed, ready, the broker engine connected, the warm-up over (see {@link ServerHealth}). */
@Readiness
@ApplicationScoped
public class ReadinessCheck implements HealthCheck {

  private ServerHealth health;

  /** For CDI's proxy. */
  protected ReadinessCheck() {}

  @Inject
  ReadinessCheck(ServerStatus status, WarmUp warmUp) {
    this.health = new ServerHealth(status, warmUp::state);
  }

  @Override
  public HealthCheckResponse call() {
    return health.readiness();
  }
}
