package io.agserver.auth.jwt;

import java.util.Map;

import org.eclipse.microprofile.config.Config;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;

/**
 * MicroProfile Config holding given values only, converting them as Liberty's (SmallRye Config)
 * does: for tests of the mp.jwt.* and smallrye.jwt.* keys.
 */
public final class MpJwtConfig {

  private MpJwtConfig() {
  }

  public static Config of(Map<String, String> values) {
    return new SmallRyeConfigBuilder().withSources(new PropertiesConfigSource(values, "test", 500)).build();
  }

  /** The identity provider these keys describe; null when they describe none. */
  public static IdentityProvider provider(Map<String, String> values) {
    return IdentityProvider.fromConfig(of(values));
  }
}
