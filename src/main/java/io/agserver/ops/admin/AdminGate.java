package io.agserver.ops.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import io.agserver.ops.ClientAddress;

/**
 * In front of everything under {@code /admin/} (the page's files and its JSON endpoints):
 * <ul>
 * <li>without {@code socketcluster.admin.password}: 404, as if there were no admin page;
 * <li>an address blocked after wrong passwords: 429 with Retry-After ({@link LoginThrottle});
 * <li>no password or a wrong one: 401 with {@code WWW-Authenticate: Basic realm="agserver-admin"};
 * <li>a state-changing request (anything but GET and HEAD) without the CSRF guard: 403
 *     ({@link AdminRequests#csrfRefusal}).
 * </ul>
 * Every answer says {@code Cache-Control: no-store}, and the page may be neither framed nor run
 * scripts from elsewhere. What passes carries {@link #OPERATOR}, the operator as the log names them.
 */
final class AdminGate implements Filter {

  /** The request attribute naming who passed the gate: {@code 'user' from address}. */
  static final String OPERATOR = AdminGate.class.getName() + ".operator";
  static final String REALM = "agserver-admin";

  /** Null when the admin page is off. */
  private final AdminConsole console;

  AdminGate(AdminConsole console) {
    this.console = console;
  }

  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    if (!(request instanceof HttpServletRequest http && response instanceof HttpServletResponse answer)) {
      chain.doFilter(request, response);
      return;
    }
    answer.setHeader("Cache-Control", "no-store");
    if (console == null) {
      refuse(http, answer, HttpServletResponse.SC_NOT_FOUND, "Not Found");
      return;
    }
    answer.setHeader("X-Content-Type-Options", "nosniff");
    answer.setHeader("X-Frame-Options", "DENY");
    answer.setHeader("Referrer-Policy", "no-referrer");
    answer.setHeader("Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    String address = console.clientAddress(http);
    String block = ClientAddress.block(address);
    LoginThrottle throttle = console.throttle();
    long blocked = throttle.blockedFor(block);
    if (blocked > 0) {
      answer.setHeader("Retry-After", Long.toString((blocked + 999) / 1000));
      refuse(http, answer, 429, "Too many wrong passwords from this address: try again later");
      return;
    }
    AdminCredentials.Check check = console.credentials().check(http.getHeader("Authorization"));
    if (!(check instanceof AdminCredentials.Accepted accepted)) {
      if (check instanceof AdminCredentials.Wrong wrong) {
        throttle.failed(block, wrong.user());
      }
      challenge(http, answer);
      return;
    }
    String user = accepted.user();
    String method = http.getMethod();
    if (!method.equals("GET") && !method.equals("HEAD")) {
      String refusal = AdminRequests.csrfRefusal(http.getHeader(AdminRequests.GUARD_HEADER), http.getHeader("Origin"),
          http.getHeader("Sec-Fetch-Site"), http.getHeader("Host"), http.getHeader("X-Forwarded-Host"));
      if (refusal != null) {
        refuse(http, answer, HttpServletResponse.SC_FORBIDDEN, refusal);
        return;
      }
    }
    if (!exists(http)) {
      // Answered here: a file the container does not find under a filter costs an FFDC on Liberty.
      refuse(http, answer, HttpServletResponse.SC_NOT_FOUND, "Not Found");
      return;
    }
    http.setAttribute(OPERATOR, "'" + AdminRequests.printable(user) + "' from " + address);
    chain.doFilter(request, response);
  }

  /** Whether the path is the page, one of its files, or one of its endpoints. */
  private static boolean exists(HttpServletRequest request) {
    String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
    if (path.startsWith(AdminSetup.API)) {
      return AdminSetup.ENDPOINTS.contains(path.substring(AdminSetup.API.length()));
    }
    return PageFiles.serves(path);
  }

  private static void challenge(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setHeader("WWW-Authenticate", "Basic realm=\"" + REALM + "\", charset=\"UTF-8\"");
    refuse(request, response, HttpServletResponse.SC_UNAUTHORIZED, "The admin page needs its password");
  }

  /** JSON for the endpoints ({@code /admin/api/...}), plain text for the rest. */
  private static void refuse(HttpServletRequest request, HttpServletResponse response, int status, String message)
      throws IOException {
    String path = request.getRequestURI().substring(request.getContextPath().length());
    if (path.startsWith(AdminSetup.API)) {
      JsonReplies.send(response, status, Map.of("error", message));
      return;
    }
    byte[] text = (message + "\n").getBytes(StandardCharsets.UTF_8);
    response.setStatus(status);
    response.setContentType("text/plain;charset=UTF-8");
    response.setContentLength(text.length);
    response.getOutputStream().write(text);
  }
}
