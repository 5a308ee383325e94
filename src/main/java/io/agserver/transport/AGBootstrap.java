package io.agserver.transport;

import java.util.EnumSet;

import jakarta.enterprise.inject.spi.CDI;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterRegistration;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.annotation.WebListener;
import jakarta.websocket.DeploymentException;
import jakarta.websocket.server.ServerContainer;
import jakarta.websocket.server.ServerEndpointConfig;

import io.agserver.AGServer;
import io.agserver.core.Connections;
import io.agserver.ops.WarmUp;

/**
 * Starts the server with the application, registers its WebSocket endpoint at the configured
 * path ({@code socketcluster.path}), which an annotation could not take from configuration, and
 * starts its warm-up.
 */
@WebListener
public final class AGBootstrap implements ServletContextListener {

  private TransportThreads threads;
  private AGServer server;
  private StopSignal stopSignal;

  @Override
  public void contextInitialized(ServletContextEvent event) {
    Connections connections = CDI.current().select(Connections.class).get();
    server = connections.server();
    threads = register(event.getServletContext(), connections, "agserver-upgrade");
    stopSignal = StopSignal.install(server);
    // Asynchronous: readiness waits for it, deployment does not (README, "Warm start").
    CDI.current().select(WarmUp.class).get().start(event.getServletContext().getContextPath());
  }

  /**
   * The first of the application's stop hooks: the drain runs here unless SIGTERM ran it already
   * (on Payara the sockets are still open here; on Open Liberty its quiesce dropped them before),
   * and only then do the transport's threads stop, so that the drain's closes go out.
   */
  @Override
  public void contextDestroyed(ServletContextEvent event) {
    if (server != null) {
      server.drainAndWait();
    }
    if (stopSignal != null) {
      stopSignal.uninstall();
    }
    if (threads != null) {
      threads.shutdown();
    }
  }

  /**
   * Serves the server of {@code connections} at its path in {@code context}: the upgrade filter (named
   * {@code filterName}, unique in the application) and the WebSocket endpoint, with transport
   * threads from the container's managed thread factory where there is one. Returns the threads,
   * for the application's end.
   */
  static TransportThreads register(ServletContext context, Connections connections, String filterName) {
    AGServer server = connections.server();
    String path = server.path();
    FilterRegistration.Dynamic filter = context.addFilter(filterName, new UpgradeRequestFilter(connections));
    if (filter != null) {
      filter.setAsyncSupported(true);
      filter.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, path, stripSlash(path));
    }
    ServerContainer container = (ServerContainer) context.getAttribute(ServerContainer.class.getName());
    if (container == null) {
      throw new IllegalStateException("No Jakarta WebSocket container: enable the websocket feature");
    }
    TransportThreads threads = new TransportThreads(TransportThreads.containerFactory(),
        server.options().senderThreads(), server.options().sendTimeout());
    DeflateNegotiator deflate = PerMessageDeflate.forServer(server, container);
    ServerEndpointConfig config = ServerEndpointConfig.Builder.create(AGEndpoint.class, path)
        .configurator(new AGEndpointConfigurator(connections, threads, deflate))
        .build();
    try {
      container.addEndpoint(config);
    } catch (DeploymentException e) {
      throw new IllegalStateException("Cannot register the SocketCluster endpoint at " + path, e);
    }
    connections.transportStarted(threads::status);
    return threads;
  }

  private static String stripSlash(String path) {
    return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
  }
}
