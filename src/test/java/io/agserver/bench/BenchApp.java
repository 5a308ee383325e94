package io.agserver.bench;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.agserver.event.AGConnectionEvent;

/** The benchmark application, the same as the Node.js reference's: one procedure, echo. */
@ApplicationScoped
public class BenchApp {

  void onConnection(@Observes AGConnectionEvent event) {
    event.socket().procedure("echo").consume(request -> request.end(request.data()));
  }
}
