package io.agserver.ops.admin;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.StringReader;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import io.agserver.codec.JsonCodec;

/**
 * The admin page's filter and endpoints driven as a servlet container drives them, without one:
 * requests and responses are proxies that answer the calls they make (an unexpected call fails the
 * test), the filter chain ends at the endpoint mapped to the path (or at the page's static files),
 * and an asynchronous answer is waited for. Context path "" (the WAR at the root).
 */
final class FakeHttp {

  /** An answer: status, headers (lower-case names) and body. */
  record Answer(int status, Map<String, String> headers, String body) {
    Map<?, ?> json() {
      return (Map<?, ?>) JsonCodec.instance().parse(body);
    }

    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  private final AdminGate gate;
  private final Map<String, AdminEndpoint> endpoints = new LinkedHashMap<>();

  FakeHttp(AdminConsole console) {
    this.gate = new AdminGate(console);
    if (console != null) {
      endpoints.put("figures", new FiguresEndpoint(console));
      endpoints.put("instances", new InstancesEndpoint(console));
      endpoints.put("sockets", new SocketsEndpoint(console));
      endpoints.put("disconnect", new DisconnectEndpoint(console));
      endpoints.put("publish", new PublishEndpoint(console));
    }
  }

  Answer get(String pathAndQuery, Map<String, String> headers) throws Exception {
    return send("GET", pathAndQuery, headers, null);
  }

  Answer post(String path, Map<String, String> headers, String body) throws Exception {
    return send("POST", path, headers, body);
  }

  Answer send(String method, String pathAndQuery, Map<String, String> requestHeaders, String body) throws Exception {
    int question = pathAndQuery.indexOf('?');
    String path = question < 0 ? pathAndQuery : pathAndQuery.substring(0, question);
    Map<String, String> parameters = new LinkedHashMap<>();
    if (question >= 0) {
      for (String pair : pathAndQuery.substring(question + 1).split("&")) {
        int equals = pair.indexOf('=');
        parameters.put(java.net.URLDecoder.decode(pair.substring(0, equals), StandardCharsets.UTF_8),
            java.net.URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8));
      }
    }
    Map<String, String> headers = new LinkedHashMap<>();
    requestHeaders.forEach((name, value) -> headers.put(name.toLowerCase(Locale.ROOT), value));
    Map<String, Object> attributes = new LinkedHashMap<>();
    Map<String, String> responseHeaders = new LinkedHashMap<>();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int[] status = {200};
    CountDownLatch completed = new CountDownLatch(1);
    boolean[] async = {false};
    List<AsyncListener> listeners = new ArrayList<>();

    ServletOutputStream stream = new ServletOutputStream() {
      @Override
      public boolean isReady() {
        return true;
      }

      @Override
      public void setWriteListener(WriteListener listener) {}

      @Override
      public void write(int b) {
        out.write(b);
      }
    };
    HttpServletResponse[] response = new HttpServletResponse[1];
    HttpServletRequest[] requests = new HttpServletRequest[1];
    AsyncContext asyncContext = (AsyncContext) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {AsyncContext.class}, (proxy, m, args) -> switch (m.getName()) {
          case "setTimeout" -> null;
          case "addListener" -> listeners.add((AsyncListener) args[0]);
          case "getResponse" -> response[0];
          case "getRequest" -> requests[0];
          case "complete" -> {
            for (AsyncListener listener : listeners) {
              listener.onComplete(new AsyncEvent((AsyncContext) proxy));
            }
            completed.countDown();
            yield null;
          }
          default -> throw new AssertionError("AsyncContext." + m.getName());
        });
    ServletContext context = (ServletContext) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {ServletContext.class}, (proxy, m, args) -> {
          throw new AssertionError("ServletContext." + m.getName());
        });
    HttpServletRequest request = (HttpServletRequest) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {HttpServletRequest.class}, (proxy, m, args) -> switch (m.getName()) {
          case "getMethod" -> method;
          case "getHeader" -> headers.get(((String) args[0]).toLowerCase(Locale.ROOT));
          case "getHeaders" -> Collections.enumeration(headers.containsKey(((String) args[0]).toLowerCase(Locale.ROOT))
              ? List.of(headers.get(((String) args[0]).toLowerCase(Locale.ROOT))) : List.<String>of());
          case "getRemoteAddr" -> headers.getOrDefault("x-test-remote", "127.0.0.1");
          case "getRequestURI" -> path;
          case "getContextPath" -> "";
          case "getServletPath" -> path;
          case "getPathInfo" -> null;
          case "getParameter" -> parameters.get((String) args[0]);
          case "getContentLengthLong" -> body == null ? -1L : (long) body.getBytes(StandardCharsets.UTF_8).length;
          case "setCharacterEncoding" -> null;
          case "getReader" -> new BufferedReader(new StringReader(body == null ? "" : body));
          case "setAttribute" -> attributes.put((String) args[0], args[1]);
          case "getAttribute" -> attributes.get((String) args[0]);
          case "startAsync" -> {
            async[0] = true;
            yield asyncContext;
          }
          case "isAsyncStarted" -> async[0];
          case "getServletContext" -> context;
          default -> throw new AssertionError("HttpServletRequest." + m.getName());
        });
    requests[0] = request;
    response[0] = (HttpServletResponse) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {HttpServletResponse.class}, (proxy, m, args) -> switch (m.getName()) {
          case "setHeader" -> responseHeaders.put(((String) args[0]).toLowerCase(Locale.ROOT), (String) args[1]);
          case "setStatus" -> {
            status[0] = (Integer) args[0];
            yield null;
          }
          case "setContentType" -> responseHeaders.put("content-type", (String) args[0]);
          case "setContentLength" -> null;
          case "getOutputStream" -> stream;
          default -> throw new AssertionError("HttpServletResponse." + m.getName());
        });
    FilterChain chain = (req, res) -> {
      if (path.startsWith(AdminSetup.API)) {
        endpoints.get(path.substring(AdminSetup.API.length())).service(request, response[0]);
      } else {
        // PageFiles serves the page's files (or redirects /admin to /admin/).
        byte[] page = ("static " + path).getBytes(StandardCharsets.UTF_8);
        response[0].setStatus(200);
        out.write(page);
      }
    };
    gate.doFilter(request, response[0], chain);
    if (async[0] && !completed.await(20, TimeUnit.SECONDS)) {
      throw new AssertionError(method + " " + pathAndQuery + ": no answer in 20 s");
    }
    return new Answer(status[0], responseHeaders, out.toString(StandardCharsets.UTF_8));
  }
}
