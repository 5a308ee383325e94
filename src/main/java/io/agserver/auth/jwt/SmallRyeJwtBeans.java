package io.agserver.auth.jwt;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.context.RequestScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.enterprise.inject.spi.Extension;
import jakarta.enterprise.inject.spi.ProcessAnnotatedType;
import jakarta.enterprise.inject.spi.WithAnnotations;
import jakarta.inject.Inject;

/**
 * Keeps SmallRye JWT's CDI beans out of the application. The WAR bundles SmallRye JWT as a
 * library ({@link IdentityProvider}); its jar has no beans.xml, so the runtime scans it as an
 * implicit bean archive and would find its producers of JsonWebToken, claims and its parser. Those
 * belong to a container's MP-JWT security, which agserver does not use: on Payara, whose own
 * MP-JWT implementation produces JsonWebToken too, they would make injection points ambiguous,
 * and anywhere they would build an unused auth context from the configuration. A beans.xml can
 * exclude classes of its own archive only; this extension reaches the library's.
 */
public class SmallRyeJwtBeans implements Extension {

  // Only types that could be beans (SmallRye JWT 4.6's are scoped, produce or inject), so the
  // container does not call this for every type of the application.
  void veto(@Observes @WithAnnotations({ApplicationScoped.class, RequestScoped.class, Dependent.class,
      Produces.class, Inject.class}) ProcessAnnotatedType<?> type) {
    if (type.getAnnotatedType().getJavaClass().getName().startsWith("io.smallrye.jwt.")) {
      type.veto();
    }
  }
}
