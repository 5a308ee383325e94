package io.agserver.transport;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.annotation.WebListener;

import io.agserver.AGServer;
import io.agserver.AGServerSocket;
import io.agserver.config.AGServerOptions;
import io.agserver.event.AGConnectionEvent;
import io.agserver.event.AGWarningEvent;
import io.agserver.protocol.AGError;

/**
 * A second server in the integration-test application, at {@link #PATH}, with the transport
 * options the application's main server leaves at their defaults: restricted {@code origins}, a
 * short {@code sendTimeout} and {@code perMessageDeflate} on (src/test/java/io/agserver/it:
 * OriginIT, SendTimeoutIT, PerMessageDeflateIT). Registered the way the product registers its
 * own ({@link AGBootstrap#register}).
 *
 * <p>Procedures: {@code echo}; {@code flood} {count, size} transmits that many messages of that
 * many characters to the caller; {@code transportState} answers what the transport is doing.
 */
@WebListener
public final class TransportTestServer implements ServletContextListener {

  public static final String PATH = "/socketcluster-transport/";
  public static final String ORIGINS = "https://example.com:443 *:80";
  public static final long SEND_TIMEOUT = 1000;

  private final AtomicInteger sendTimeouts = new AtomicInteger();
  private AGServer server;
  private TransportThreads threads;

  @Override
  public void contextInitialized(ServletContextEvent event) {
    Map<String, String> values = Map.of(
        "path", PATH,
        "origins", ORIGINS,
        "sendTimeout", Long.toString(SEND_TIMEOUT),
        // Far above SendTimeoutIT's flood (200 x 64 KiB), so that the send time limit, not the
        // outbound buffer limit, is what cuts the client that stops reading.
        "outboundBufferLimit", Long.toString(64L * 1024 * 1024),
        "perMessageDeflate", "true");
    AGServerOptions options = AGServerOptions.from(key -> Optional.ofNullable(
        values.get(key.substring(AGServerOptions.PREFIX.length()))));
    server = new AGServer(options, null, this::onEvent, null);
    threads = AGBootstrap.register(event.getServletContext(), io.agserver.TestAccess.connections(server),
        "agserver-upgrade-transport-test");
  }

  @Override
  public void contextDestroyed(ServletContextEvent event) {
    if (threads != null) {
      threads.shutdown();
    }
    if (server != null) {
      server.close();
    }
  }

  private void onEvent(Object event) {
    if (event instanceof AGWarningEvent warning && warning.warning() instanceof AGError error
        && "TimeoutError".equals(error.name()) && String.valueOf(error.getMessage()).contains("sendTimeout")) {
      sendTimeouts.incrementAndGet();
    }
    if (event instanceof AGConnectionEvent connection) {
      serve(connection.socket());
    }
  }

  private void serve(AGServerSocket socket) {
    socket.procedure("echo").consume(request -> request.end(request.data()));
    socket.procedure("flood").consume(request -> {
      Map<?, ?> data = (Map<?, ?>) request.data();
      int count = ((Number) data.get("count")).intValue();
      String text = "x".repeat(((Number) data.get("size")).intValue());
      request.end(count);
      for (int i = 0; i < count; i++) {
        socket.transmit("flood", text);
      }
    });
    socket.procedure("transportState").consume(request -> {
      Map<String, Object> state = new LinkedHashMap<>();
      state.put("clients", server.clientsCount());
      state.put("writesInProgress", threads.senders.writesInProgress());
      state.put("senderThreads", threads.senders.threadCount());
      state.put("writesStuckLately", threads.senders.writesStuckLately());
      state.put("waitingForWindow", threads.windowWatch.waiting());
      state.put("sendsParked", threads.windowWatch.parkedTotal());
      state.put("sendTimeouts", sendTimeouts.get());
      state.put("managedThreads", threads.managed);
      request.end(state);
    });
  }
}
