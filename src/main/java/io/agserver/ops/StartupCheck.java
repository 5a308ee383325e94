package io.agserver.ops;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Startup;

import io.agserver.core.ServerStatus;

/** Startup: the server and its endpoint are up (see {@link ServerHealth}). */
@Startup
@ApplicationScoped
public class StartupCheck implements HealthCheck {

  private ServerHealth health;

  /** For CDI's proxy. */
  protected StartupCheck() {}

  @Inject
  StartupCheck(ServerStatus status, WarmUp warmUp) {
    this.health = new ServerHealth(status, warmUp::state);
  }

  @Override
  public HealthCheckResponse call() {
    return health.startup();
  }
}
