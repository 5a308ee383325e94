package io.agserver.ops.admin;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The admin page's three files, from {@code WEB-INF/admin-page/} of the WAR, registered only while
 * the page is on. They are not in the WAR's public root: there a directory {@code admin/} would make
 * Payara answer {@code /admin} with a redirect to {@code /admin/} before any filter runs, telling a
 * visitor that the page exists when it is off (every other path answers 404 then).
 */
final class PageFiles extends HttpServlet {

  private static final long serialVersionUID = 1L;

  static final String DIRECTORY = "/WEB-INF/admin-page/";
  /** Path under the context to file and content type. */
  static final Map<String, String[]> FILES = Map.of(
      "/admin/", new String[] {"index.html", "text/html;charset=UTF-8"},
      "/admin/admin.js", new String[] {"admin.js", "text/javascript;charset=UTF-8"},
      "/admin/admin.css", new String[] {"admin.css", "text/css;charset=UTF-8"});

  /** Whether {@code path} (under the context) is one of the page's files, or {@code /admin}. */
  static boolean serves(String path) {
    return path.equals("/admin") || FILES.containsKey(path);
  }

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
    String method = request.getMethod();
    if (!method.equals("GET") && !method.equals("HEAD")) {
      response.setHeader("Allow", "GET, HEAD");
      response.sendError(HttpServletResponse.SC_METHOD_NOT_ALLOWED);
      return;
    }
    String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
    if (path.equals("/admin")) {
      response.sendRedirect(request.getContextPath() + "/admin/");
      return;
    }
    String[] file = FILES.get(path);
    byte[] content;
    try (InputStream in = file == null ? null : getServletContext().getResourceAsStream(DIRECTORY + file[0])) {
      if (in == null) {
        response.sendError(HttpServletResponse.SC_NOT_FOUND);
        return;
      }
      content = in.readAllBytes();
    }
    response.setContentType(file[1]);
    response.setContentLength(content.length);
    if (method.equals("GET")) {
      response.getOutputStream().write(content);
    }
  }
}
