package io.agserver.endpoint;

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

/**
 * Starts the server with the application and registers its WebSocket endpoint at the configured
 * path ({@code socketcluster.path}), which an annotation could not take from configuration.
 */
@WebListener
public final class AGBootstrap implements ServletContextListener {

  @Override
  public void contextInitialized(ServletContextEvent event) {
    ServletContext context = event.getServletContext();
    Connections connections = CDI.current().select(Connections.class).get();
    AGServer server = connections.server();
    String path = server.path();
    FilterRegistration.Dynamic filter = context.addFilter("agserver-upgrade", new UpgradeRequestFilter(connections));
    if (filter != null) {
      filter.setAsyncSupported(true);
      filter.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, path, stripSlash(path));
    }
    ServerContainer container = (ServerContainer) context.getAttribute(ServerContainer.class.getName());
    if (container == null) {
      throw new IllegalStateException("No Jakarta WebSocket container: enable the websocket feature");
    }
    ServerEndpointConfig config = ServerEndpointConfig.Builder.create(AGEndpoint.class, path)
        .configurator(new AGEndpointConfigurator(connections))
        .build();
    try {
      container.addEndpoint(config);
    } catch (DeploymentException e) {
      throw new IllegalStateException("Cannot register the SocketCluster endpoint at " + path, e);
    }
  }

  private static String stripSlash(String path) {
    return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
  }
}
