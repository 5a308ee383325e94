package io.agserver.core;

import io.agserver.AGServer;
import io.agserver.auth.AuthEngine;
import io.agserver.config.AGServerOptions;
import io.agserver.codec.AGCodec;
import io.agserver.pubsub.AGExchange;
import io.agserver.pubsub.BrokerEngine;

/**
 * What the socket machinery needs of its server beyond the public API: the server gives it this
 * view of itself, so that none of it has to be public on {@link AGServer}.
 */
public interface ServerContext {

  AGServer server();

  default AGServerOptions options() {
    return server().options();
  }

  default AGCodec codec() {
    return server().codec();
  }

  default AuthEngine authEngine() {
    return server().authEngine();
  }

  default AGExchange exchange() {
    return server().exchange();
  }

  default BrokerEngine broker() {
    return server().broker();
  }

  /** Emits a server event: its listener stream and the CDI event. */
  void emit(String name, Object event);

  default void emitWarning(Throwable warning) {
    server().emitWarning(warning);
  }

  MiddlewareLines middleware();

  AGScheduler scheduler();

  String pingMessage();

  String pongMessage();

  /** Where refusals of the limits are logged (and counted). */
  io.agserver.ops.Refusals refusals();

  /** Whether the server's limits apply to this context's sockets (not to its own warm-up connections). */
  default boolean limitsApply() {
    return true;
  }
}
