package io.agserver.transport;

import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.websocket.server.ServerContainer;

import io.agserver.AGServer;
import io.agserver.protocol.AGError;

/**
 * The {@code perMessageDeflate} option (the original passes it to ws): whether this runtime can
 * run permessage-deflate, decided once at deployment.
 *
 * <ul>
 *   <li>Tyrus (Payara, GlassFish): yes, with {@link TyrusPerMessageDeflate} (Tyrus runs an
 *       extension's code on every frame; Payara does not ship Tyrus's own deflate extension).
 *   <li>Open Liberty (websocket-2.1): no. It negotiates whatever the configurator returns but
 *       has no hook to compress or inflate frames: a negotiated extension would put compressed
 *       bytes nowhere and refuse the client's compressed frames (RSV1). Measured on 26.0.0.3: an
 *       upgrade offering permessage-deflate gets no Sec-WebSocket-Extensions header.
 * </ul>
 *
 * When the option is on and the runtime cannot, deployment logs a WARNING naming the option and
 * the server emits a warning event; connections are then uncompressed. When it is off, nothing is
 * negotiated whatever the runtime would do by default.
 */
final class PerMessageDeflate {

  private static final Logger LOG = Logger.getLogger(PerMessageDeflate.class.getName());

  static final String OPTION = "socketcluster.perMessageDeflate";
  private static final String TYRUS_EXTENSION = "org.glassfish.tyrus.core.extension.ExtendedExtension";

  private PerMessageDeflate() {}

  /**
   * The negotiator for {@code server}'s endpoint in {@code container}, or null when compression
   * is off or this runtime cannot run it (then it warns).
   */
  static DeflateNegotiator forServer(AGServer server, ServerContainer container) {
    if (!server.options().perMessageDeflate()) {
      return null;
    }
    DeflateNegotiator negotiator = tyrus(container, server.options().maxPayload());
    if (negotiator == null) {
      String message = OPTION + " is true, but this WebSocket runtime (" + runtimeName(container)
          + ") cannot run the permessage-deflate extension: connections are not compressed";
      LOG.warning(message);
      server.emitWarning(AGError.invalidOptions(message));
    }
    return negotiator;
  }

  /** The Tyrus negotiator, if Tyrus runs this container and its extension API is visible to us. */
  static DeflateNegotiator tyrus(ServerContainer container, long maxPayload) {
    if (container == null || !container.getClass().getName().startsWith("org.glassfish.tyrus.")) {
      return null;
    }
    ClassLoader loader = PerMessageDeflate.class.getClassLoader();
    try {
      Class.forName(TYRUS_EXTENSION, false, loader);
      Class<?> extension = Class.forName(PerMessageDeflate.class.getPackageName() + ".TyrusPerMessageDeflate",
          true, loader);
      return (DeflateNegotiator) extension.getDeclaredMethod("negotiator", long.class).invoke(null, maxPayload);
    } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
      LOG.log(Level.FINE, "Tyrus's extension API is not visible to the application", e);
      return null;
    }
  }

  private static String runtimeName(ServerContainer container) {
    return container == null ? "no server container" : container.getClass().getName();
  }
}
