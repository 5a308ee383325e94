package io.agserver.conformance;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import io.agserver.AGRequest;
import io.agserver.AGServer;
import io.agserver.AGServerSocket;
import io.agserver.event.AGAuthenticationEvent;
import io.agserver.event.AGAuthenticationStateChangeEvent;
import io.agserver.event.AGBadSocketAuthTokenEvent;
import io.agserver.event.AGClosureEvent;
import io.agserver.event.AGConnectionEvent;
import io.agserver.event.AGDeauthenticationEvent;
import io.agserver.event.AGHandshakeEvent;
import io.agserver.event.AGSocketEvent;
import io.agserver.event.AGSubscriptionEvent;
import io.agserver.event.AGUnsubscriptionEvent;
import io.agserver.protocol.AGError;

/** The conformance application of shared/conformance/APP.md, written as an agserver application. */
@ApplicationScoped
public class ConformanceApp {

  @Inject
  AGServer server;

  private final Map<String, List<String>> events = new ConcurrentHashMap<>();
  private final Map<String, List<Object>> sequences = new ConcurrentHashMap<>();

  void onHandshake(@Observes AGHandshakeEvent event) {
    record(event.socket(), "handshake");
  }

  void onConnection(@Observes AGConnectionEvent event) {
    record(event.socket(), "connection");
    serve(event.socket());
  }

  void onSubscription(@Observes AGSubscriptionEvent event) {
    record(event.socket(), "subscription");
  }

  void onUnsubscription(@Observes AGUnsubscriptionEvent event) {
    record(event.socket(), "unsubscription");
  }

  void onAuthentication(@Observes AGAuthenticationEvent event) {
    record(event.socket(), "authentication");
  }

  void onDeauthentication(@Observes AGDeauthenticationEvent event) {
    record(event.socket(), "deauthentication");
  }

  void onAuthStateChange(@Observes AGAuthenticationStateChangeEvent event) {
    record(event.socket(), "authenticationStateChange");
  }

  void onBadToken(@Observes AGBadSocketAuthTokenEvent event) {
    record(event.socket(), "badSocketAuthToken");
  }

  void onClosure(@Observes AGClosureEvent event) {
    events.remove(event.socket().id());
    sequences.remove(event.socket().id());
  }

  private void record(AGServerSocket socket, String name) {
    events.computeIfAbsent(socket.id(), id -> Collections.synchronizedList(new ArrayList<>())).add(name);
  }

  private void serve(AGServerSocket socket) {
    List<Object> sequence = sequences.computeIfAbsent(socket.id(),
        id -> Collections.synchronizedList(new ArrayList<>()));

    socket.procedure("echo").consume(request -> {
      if (request.hasData()) {
        request.end(request.data());
      } else {
        request.end();
      }
    });
    socket.procedure("fail").consume(request -> {
      AGError error = new AGError("CustomError", "Failure requested");
      if (request.hasData()) {
        error.with("code", request.data());
      }
      request.error(error);
    });
    socket.procedure("whoami").consume(request -> request.end(socket.authToken()));
    socket.procedure("disconnectMe").consume(request -> {
      request.end(Map.of("ok", true));
      socket.disconnect(4321, "bye");
    });
    socket.procedure("callClient").consume(request -> callClient(socket, request));
    socket.procedure("transmitBack").consume(request -> {
      Map<?, ?> data = (Map<?, ?>) request.data();
      socket.transmit((String) data.get("receiver"), data.get("data"));
      request.end(Map.of("ok", true));
    });
    socket.procedure("state").consume(request -> request.end(state(socket)));
    socket.procedure("slow").consume(request -> {
      Object ms = ((Map<?, ?>) request.data()).get("ms");
      long delay = ((Number) ms).longValue();
      CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS)
          .execute(() -> request.end(Map.of("waited", ms)));
    });
    socket.procedure("events").consume(request -> {
      List<String> names = events.getOrDefault(socket.id(), List.of());
      synchronized (names) {
        request.end(List.copyOf(names));
      }
    });
    socket.procedure("sequence").consume(request -> {
      synchronized (sequence) {
        request.end(new ArrayList<>(sequence));
      }
    });

    socket.receiver("bounce").consume(data -> socket.transmit("bounced", data));
    socket.receiver("sequence").consume(sequence::add);
    socket.<AGSocketEvent.Raw>listener("raw").consume(raw -> socket.transmit("raw", text(raw.message())));
  }

  private static void callClient(AGServerSocket socket, AGRequest request) {
    Map<?, ?> data = (Map<?, ?>) request.data();
    String procedure = (String) data.get("procedure");
    socket.invoke(procedure, data.get("data")).whenComplete((result, error) -> {
      if (error != null) {
        request.error(error instanceof java.util.concurrent.CompletionException ? error.getCause() : error);
      } else if (result == null) {
        request.end(Map.of());
      } else {
        request.end(Map.of("result", result));
      }
    });
  }

  private Map<String, Object> state(AGServerSocket socket) {
    Map<String, Object> state = new LinkedHashMap<>();
    state.put("id", socket.id());
    state.put("authState", socket.authState());
    state.put("subscriptions", List.of());
    state.put("clientsCount", server.clientsCount());
    state.put("pendingClientsCount", server.pendingClientsCount());
    return state;
  }

  private static Object text(Object message) {
    if (message instanceof java.nio.ByteBuffer bytes) {
      return java.nio.charset.StandardCharsets.UTF_8.decode(bytes.duplicate()).toString();
    }
    return message;
  }
}
