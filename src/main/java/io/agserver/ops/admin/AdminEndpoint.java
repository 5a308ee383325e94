package io.agserver.ops.admin;

import java.io.IOException;
import java.util.logging.Logger;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * One JSON endpoint under {@code /admin/api/}, behind {@link AdminGate}: it answers one method
 * (GET also answers HEAD), any other gets 405 with {@code Allow}. Refusals of bad input are 400
 * with {@code {"error": "..."}}.
 */
abstract class AdminEndpoint extends HttpServlet {

  /** Where the admins' actions are logged, at INFO. */
  static final Logger ACTIONS = Logger.getLogger("io.agserver.ops.admin.actions");

  private static final long serialVersionUID = 1L;

  final transient AdminConsole console;
  private final String method;

  AdminEndpoint(AdminConsole console, String method) {
    this.console = console;
    this.method = method;
  }

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response) throws ServletException, IOException {
    String asked = request.getMethod();
    if (!asked.equals(method) && !(method.equals("GET") && asked.equals("HEAD"))) {
      response.setHeader("Allow", method.equals("GET") ? "GET, HEAD" : method);
      JsonReplies.error(response, HttpServletResponse.SC_METHOD_NOT_ALLOWED,
          request.getRequestURI() + " answers " + method + " only");
      return;
    }
    try {
      handle(request, response);
    } catch (JsonReplies.BadRequest e) {
      if (request.isAsyncStarted()) {
        throw new IllegalStateException("a bad request found after going asynchronous", e);
      }
      JsonReplies.error(response, HttpServletResponse.SC_BAD_REQUEST, e.getMessage());
    }
  }

  abstract void handle(HttpServletRequest request, HttpServletResponse response)
      throws IOException, JsonReplies.BadRequest;

  /** Who made the request, for the log (set by the gate). */
  static String operator(HttpServletRequest request) {
    Object who = request.getAttribute(AdminGate.OPERATOR);
    return who == null ? "?" : who.toString();
  }
}
