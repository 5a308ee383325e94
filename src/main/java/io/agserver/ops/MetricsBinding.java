package io.agserver.ops;

import java.util.logging.Level;
import java.util.logging.Logger;

import io.agserver.core.AGScheduler;

/**
 * Exports a server's figures to MicroProfile Metrics when the runtime offers it (on Open Liberty,
 * the {@code mpMetrics-5.1} feature; Payara always does), so that they are scraped in
 * Prometheus text at {@code /metrics} with the runtime's own metrics.
 *
 * <p>The MicroProfile Metrics API is the runtime's, not the WAR's: where it is missing (Liberty
 * without the feature) its classes cannot be loaded, so this class names none of them and loads
 * {@link MicroProfileMetrics}, which does, only after checking that the API is there. The
 * figures are counted either way.
 */
public final class MetricsBinding implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(MetricsBinding.class.getName());

  static final String REGISTRY_CLASS = "org.eclipse.microprofile.metrics.MetricRegistry";

  private final AutoCloseable export;

  private MetricsBinding(AutoCloseable export) {
    this.export = export;
  }

  /**
   * Registers the figures with the application's MetricRegistry (a CDI bean of the runtime);
   * null, after one INFO line at startup, when the runtime has no MicroProfile Metrics.
   */
  public static MetricsBinding start(ServerFigures figures, AGScheduler scheduler) {
    if (!apiVisible(MetricsBinding.class.getClassLoader())) {
      LOG.info("agserver: MicroProfile Metrics is not available (on Open Liberty: the mpMetrics-5.1 feature);"
          + " the server's figures are not exported to /metrics");
      return null;
    }
    try {
      AutoCloseable export = MicroProfileMetrics.register(figures, scheduler);
      if (export == null) {
        LOG.info("agserver: the MicroProfile Metrics API is there but no MetricRegistry bean;"
            + " the server's figures are not exported to /metrics");
        return null;
      }
      return new MetricsBinding(export);
    } catch (LinkageError | RuntimeException e) {
      // A runtime whose Metrics does not match the API agserver was built against: the server
      // runs on without exporting its figures.
      LOG.log(Level.WARNING, "agserver: cannot register the server's figures with MicroProfile Metrics", e);
      return null;
    }
  }

  /** Whether the MicroProfile Metrics API can be loaded by {@code loader}. */
  static boolean apiVisible(ClassLoader loader) {
    try {
      Class.forName(REGISTRY_CLASS, false, loader);
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /** Stops exporting: the metrics leave the registry. */
  @Override
  public void close() {
    try {
      export.close();
    } catch (Exception e) {
      LOG.log(Level.FINE, "agserver: the metrics could not all be removed from the registry", e);
    }
  }
}
