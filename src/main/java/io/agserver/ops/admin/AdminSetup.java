package io.agserver.ops.admin;

import java.util.EnumSet;
import java.util.logging.Logger;

import jakarta.enterprise.inject.spi.CDI;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterRegistration;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.ServletRegistration;
import jakarta.servlet.annotation.WebListener;

import io.agserver.core.Connections;

/**
 * Serves the admin page at {@code /admin/}: the gate in front of every path under it (which
 * answers 404 for all of them while {@code socketcluster.admin.password} is not set), and, when it
 * is set, the JSON endpoints under {@value #API}, the page's files ({@link PageFiles}) and the
 * sampler of the figures.
 */
@WebListener
public final class AdminSetup implements ServletContextListener {

  private static final Logger LOG = Logger.getLogger(AdminSetup.class.getName());

  static final String PAGE = "/admin/";
  static final String API = "/admin/api/";
  /** The endpoints' names under {@link #API}. */
  static final java.util.Set<String> ENDPOINTS = java.util.Set.of("figures", "instances", "sockets", "disconnect",
      "publish");

  private AdminConsole console;

  @Override
  public void contextInitialized(ServletContextEvent event) {
    Connections connections = CDI.current().select(Connections.class).get();
    console = AdminConsole.start(connections);
    register(event.getServletContext(), console);
    if (console != null) {
      LOG.info("agserver: the admin page is at " + event.getServletContext().getContextPath() + PAGE + " (instance "
          + console.instanceId() + "); it takes socketcluster.admin.password over HTTP Basic: serve it over TLS only");
    }
  }

  @Override
  public void contextDestroyed(ServletContextEvent event) {
    if (console != null) {
      console.close();
    }
  }

  /** The gate always; the endpoints when {@code console} is there (the page is on). */
  static void register(ServletContext context, AdminConsole console) {
    FilterRegistration.Dynamic gate = context.addFilter("agserver-admin", new AdminGate(console));
    if (gate == null) {
      // A filter of that name is there already (a web.xml of the application's): the endpoints
      // are not served without the gate in front of them.
      LOG.warning("agserver: a filter named agserver-admin is already registered: the admin page is not served");
      return;
    }
    gate.setAsyncSupported(true);
    gate.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/admin", PAGE + "*");
    if (console == null) {
      return;
    }
    ServletRegistration.Dynamic page = context.addServlet("agserver-admin-page", new PageFiles());
    if (page != null) {
      // A path mapping, which also takes /admin itself; the endpoints' exact mappings win over it.
      // (An exact mapping of /admin/ does not reach a servlet on Open Liberty: its file servlet
      // answers a path that ends with a slash.)
      page.addMapping(PAGE + "*");
    }
    endpoint(context, "figures", new FiguresEndpoint(console));
    endpoint(context, "instances", new InstancesEndpoint(console));
    endpoint(context, "sockets", new SocketsEndpoint(console));
    endpoint(context, "disconnect", new DisconnectEndpoint(console));
    endpoint(context, "publish", new PublishEndpoint(console));
  }

  private static void endpoint(ServletContext context, String name, AdminEndpoint servlet) {
    ServletRegistration.Dynamic registration = context.addServlet("agserver-admin-" + name, servlet);
    if (registration != null) {
      registration.setAsyncSupported(true);
      registration.addMapping(API + name);
    }
  }
}
