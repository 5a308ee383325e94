package io.agserver.conformance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import io.agserver.AGRequest;
import io.agserver.AGServer;
import io.agserver.AGServerSocket;
import io.agserver.auth.AuthTokenOptions;
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

  /** The inbound raw rule, in the original's style: a function consuming each socket's actions. */
  void onStart(@Observes @Initialized(ApplicationScoped.class) Object context) {
    server.setMiddleware(AGServer.MIDDLEWARE_INBOUND_RAW, actions -> actions.consume(action -> {
      if ("drop-me".equals(action.data())) {
        action.block();
      } else {
        action.allow();
      }
    }));
  }

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
    socket.procedure("login").consume(request ->
        answer(request, socket.setAuthToken(user(request))));
    socket.procedure("loginExp").consume(request -> {
      Number seconds = (Number) ((Map<?, ?>) request.data()).get("seconds");
      answer(request, socket.setAuthToken(user(request),
          AuthTokenOptions.expiresIn(Duration.ofMillis(Math.round(seconds.doubleValue() * 1000)))));
    });
    socket.procedure("whoami").consume(request -> request.end(socket.authToken()));
    socket.procedure("logout").consume(request -> answer(request, socket.deauthenticate()));
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
    socket.procedure("serverPublish").consumeAsync(request -> {
      Map<?, ?> data = (Map<?, ?>) request.data();
      return server.exchange().transmitPublish((String) data.get("channel"), data.get("data"))
          .whenComplete((ok, error) -> answer(request, error));
    });
    socket.procedure("kick").consumeAsync(request -> {
      Map<?, ?> data = (Map<?, ?>) request.data();
      return socket.kickOut((String) data.get("channel"), data.get("message"))
          .whenComplete((ok, error) -> answer(request, error));
    });
    socket.procedure("state").consume(request -> request.end(state(socket)));
    // Not in APP.md (no public test calls it): what the Java integration tests check of the
    // upgrade request (src/test/java/io/agserver/it/UpgradeRequestIT).
    socket.procedure("_remoteAddress").consume(request -> {
      Map<String, Object> peer = new LinkedHashMap<>();
      peer.put("remoteAddress", socket.remoteAddress());
      peer.put("remotePort", socket.request().remotePort());
      peer.put("uri", String.valueOf(socket.request().uri()));
      peer.put("query", socket.request().query());
      request.end(peer);
    });
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

  /** {ok: true}, or the error that prevented it. */
  private static void answer(AGRequest request, Throwable error) {
    if (error == null) {
      request.end(Map.of("ok", true));
    } else {
      request.error(error instanceof java.util.concurrent.CompletionException ? error.getCause() : error);
    }
  }

  /** {username: data.username} (null values allowed, unlike Map.of). */
  private static Map<String, Object> user(AGRequest request) {
    Map<String, Object> user = new LinkedHashMap<>();
    user.put("username", request.data() instanceof Map<?, ?> data ? data.get("username") : null);
    return user;
  }

  /** {ok: true} once {@code done} completes (#setAuthToken / #removeAuthToken are sent by then). */
  private static void answer(AGRequest request, CompletionStage<Void> done) {
    done.whenComplete((ok, error) -> {
      if (error == null) {
        request.end(Map.of("ok", true));
      } else {
        request.error(error instanceof CompletionException && error.getCause() != null ? error.getCause() : error);
      }
    });
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
    List<String> subscriptions = new ArrayList<>(socket.subscriptions());
    Collections.sort(subscriptions);
    state.put("subscriptions", subscriptions);
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
