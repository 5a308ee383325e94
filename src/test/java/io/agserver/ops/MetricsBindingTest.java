package io.agserver.ops;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.net.URLClassLoader;

import org.junit.jupiter.api.Test;

import io.agserver.core.AGScheduler;

/**
 * Where the runtime has no MicroProfile Metrics (Open Liberty without the feature), the binding
 * names none of its classes and exports nothing; the figures are counted anyway.
 */
class MetricsBindingTest {

  @Test
  void theApiIsLookedForWithTheApplicationsClassLoader() {
    assertTrue(MetricsBinding.apiVisible(MetricsBindingTest.class.getClassLoader()));
    // A loader that sees the JDK only, as the application's does on a runtime without the API.
    ClassLoader withoutApi = new URLClassLoader(new URL[0], ClassLoader.getPlatformClassLoader());
    assertFalse(MetricsBinding.apiVisible(withoutApi));
  }

  @Test
  void withoutACdiContainerNothingIsExportedAndNothingFails() {
    AGScheduler scheduler = new AGScheduler(null);
    try {
      // The API is on the test class path, but there is no CDI container to find a registry in:
      // the binding gives up with a warning, and the server would run on.
      assertNull(MetricsBinding.start(new ServerFigures(null), scheduler));
    } finally {
      scheduler.close();
    }
  }
}
