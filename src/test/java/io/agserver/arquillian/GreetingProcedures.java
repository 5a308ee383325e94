package io.agserver.arquillian;

import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import io.agserver.AGServer;
import io.agserver.AGServerSocket;
import io.agserver.event.AGConnectionEvent;

/** A procedure handler written as README shows: registered on each socket when it connects. */
@ApplicationScoped
public class GreetingProcedures {

  @Inject
  AGServer server;

  void onConnection(@Observes AGConnectionEvent event) {
    AGServerSocket socket = event.socket();
    socket.procedure("arq.greet").consume(request -> {
      Map<?, ?> data = (Map<?, ?>) request.data();
      Map<String, Object> answer = new LinkedHashMap<>();
      answer.put("greeting", "hello " + data.get("name"));
      answer.put("socketId", socket.id());
      answer.put("clients", server.clientsCount());
      // What the middleware beans added on the way in (MiddlewareBeans), in their order.
      answer.put("middleware", data.get("middleware"));
      request.end(answer);
    });
    // Never reached: MiddlewareBeans blocks it.
    socket.procedure("arq.forbidden").consume(request -> request.end("reached"));
  }
}
