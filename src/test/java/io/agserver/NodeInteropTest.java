package io.agserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.agserver.auth.jwt.JwtAuthEngine;
import io.agserver.auth.jwt.JwtKeys;
import io.agserver.config.AGServerOptions;
import io.agserver.codec.JsonCodec;

/**
 * Tokens between agserver and Node's socketcluster-server 20, both ways, with the real Node server
 * (src/test/node/interop.js, installed with npm under target/node-interop): agserver's tokens
 * authenticate on Node's server, Node's on agserver, bad tokens get the same answer from both,
 * and HS256/RS256 signatures are byte for byte jsonwebtoken's. Also loads the PEM forms Node users
 * have (PKCS#1 RSA, SEC1 EC). Fails when node or npm is missing: the build requires them.
 */
class NodeInteropTest {

  private static final String INSTALL_NODE = "the Node interoperability test needs Node.js and npm;"
      + " install them, e.g. `sudo apt-get install nodejs npm` on Debian/Ubuntu or from"
      + " https://nodejs.org/ (.ci/run installs them on CI)";
  private static final JsonCodec CODEC = JsonCodec.instance();
  private final List<AGServer> servers = new ArrayList<>();

  @AfterEach
  void close() {
    servers.forEach(AGServer::close);
  }

  @Test
  void tokensAreAcceptedBothWaysWithTheSameAnswers() throws Exception {
    Path dir = installNodeSide();
    @SuppressWarnings("unchecked")
    Map<String, String> keys = (Map<String, String>) CODEC.decode(node(dir, "", "keys"));

    List<Map<String, Object>> cases = new ArrayList<>();
    List<JavaSide> javaSides = new ArrayList<>();
    for (Map<String, String> config : List.of(
        Map.of("authKey", "interop-secret", "authAlgorithm", "HS256"),
        Map.of("authPrivateKey", keys.get("rsaPrivatePkcs1"), "authPublicKey", keys.get("rsaPublicPkcs1"),
            "authAlgorithm", "RS256"),
        Map.of("authPrivateKey", keys.get("ecPrivateSec1"), "authPublicKey", keys.get("ecPublicSpki"),
            "authAlgorithm", "ES256"))) {
      JavaSide java = new JavaSide(config);
      javaSides.add(java);
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("name", config.get("authAlgorithm"));
      c.put("options", config);
      c.put("javaTokens", java.tokens);
      c.put("fixedClaims", fixedClaims());
      cases.add(c);
    }

    String output = node(dir, CODEC.encode(Map.of("cases", cases)), "run");
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> results = (List<Map<String, Object>>) CODEC.decode(output);

    for (int i = 0; i < cases.size(); i++) {
      JavaSide java = javaSides.get(i);
      Map<String, Object> result = results.get(i);
      String name = (String) result.get("name");
      Map<String, Object> nodeAnswers = map(result.get("javaTokens"));

      // agserver's token authenticates on Node's server, with the same payload.
      Map<String, Object> login = map(nodeAnswers.get("login"));
      assertEquals(true, map(map(CODEC.decode((String) login.get("handshake"))).get("data")).get("isAuthenticated"), name);
      assertEquals(CODEC.encode(java.loginAuthToken), CODEC.encode(login.get("whoami")), name);

      // Bad tokens: the same answer from both servers (the socket id aside), then #removeAuthToken.
      for (String label : List.of("expired", "notYetValid", "otherKey", "malformed", "unsigned")) {
        Map<String, Object> nodeAnswer = map(nodeAnswers.get(label));
        List<String> javaAnswer = java.handshake(java.tokens.get(label));
        assertEquals(withoutId((String) nodeAnswer.get("handshake")), withoutId(javaAnswer.get(0)), name + " " + label);
        @SuppressWarnings("unchecked")
        List<String> nodeMessages = (List<String>) nodeAnswer.get("messages");
        boolean nodeRemoves = nodeMessages.contains("{\"event\":\"#removeAuthToken\"}");
        assertEquals(nodeRemoves, javaAnswer.contains("{\"event\":\"#removeAuthToken\"}"), name + " " + label);
      }

      // Node's token (issued by its setAuthToken to socketcluster-client) authenticates on agserver.
      Map<String, Object> nodeLogin = map(result.get("nodeLogin"));
      assertEquals(true, nodeLogin.get("reconnectAuthenticated"), name);
      AGServerSocket socket = java.socketWith((String) nodeLogin.get("token"));
      assertEquals(AGServerSocket.AUTHENTICATED, socket.authState(), name);
      assertEquals(CODEC.encode(nodeLogin.get("authToken")), CODEC.encode(socket.authToken()), name);

      // jsonwebtoken's signature of the same claims: identical for the deterministic algorithms.
      String nodeFixed = (String) result.get("fixedToken");
      if (name.equals("ES256")) {
        assertEquals(fixedClaims().toString(), java.engine.verifyToken(nodeFixed, null).toCompletableFuture()
            .join().toString(), name);
      } else {
        assertEquals(nodeFixed, java.engine.signToken(fixedClaims(), null).toCompletableFuture().join(), name);
      }
    }
  }

  private static Map<String, Object> fixedClaims() {
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("username", "fixed");
    claims.put("n", 1.5);
    claims.put("text", "\u2028 \u00e9 \ud83d\ude00 </script>");
    claims.put("iat", 1000);
    claims.put("exp", 99999999999L);
    return claims;
  }

  /** One agserver (without a container) configured like the Node server of a case. */
  private final class JavaSide {
    final AGServer server;
    final JwtAuthEngine engine;
    final Map<String, String> tokens = new LinkedHashMap<>();
    final Map<String, Object> loginAuthToken;

    JavaSide(Map<String, String> config) throws Exception {
      AGServerOptions options = AGServerOptions.from(key -> Optional.ofNullable(
          config.get(key.substring(AGServerOptions.PREFIX.length()))));
      server = new AGServer(options, null, event -> {}, null);
      servers.add(server);
      engine = (JwtAuthEngine) server.authEngine();

      FakeTransport transport = new FakeTransport();
      AGServerSocket socket = socketWith(null, transport);
      Map<String, Object> data = new LinkedHashMap<>();
      data.put("username", "java-user");
      data.put("n", 1.5);
      data.put("tags", List.of("a", "b"));
      socket.setAuthToken(data).toCompletableFuture().get(5, TimeUnit.SECONDS);
      tokens.put("login", socket.signedAuthToken());
      loginAuthToken = socket.authToken();

      long now = System.currentTimeMillis() / 1000;
      tokens.put("expired", sign(Map.of("username", "x", "exp", now - 10)));
      tokens.put("notYetValid", sign(Map.of("username", "x", "nbf", now + 100)));
      tokens.put("otherKey", new JwtAuthEngine(JwtKeys.hmac("another-secret", null, null))
          .signToken(Map.of("username", "x"), null).toCompletableFuture().join());
      tokens.put("malformed", "x.y.z");
      tokens.put("unsigned", base64url("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + base64url("{\"username\":\"x\"}") + ".");
    }

    String sign(Map<String, Object> claims) {
      return engine.signToken(claims, null).toCompletableFuture().join();
    }

    AGServerSocket socketWith(String token) {
      return socketWith(token, new FakeTransport());
    }

    AGServerSocket socketWith(String token, FakeTransport transport) {
      AGServerSocket socket = server.accept(transport, new AGUpgradeRequest(
          URI.create("ws://localhost/socketcluster/"), Map.of(), Map.of(), "127.0.0.1", 5555, false));
      Map<String, Object> packet = new LinkedHashMap<>();
      packet.put("event", "#handshake");
      packet.put("cid", 1);
      if (token != null) {
        packet.put("data", Map.of("authToken", token));
      }
      socket.receive(CODEC.encode(packet));
      return socket;
    }

    List<String> handshake(String token) {
      FakeTransport transport = new FakeTransport();
      socketWith(token, transport);
      return transport.packets();
    }
  }

  private static String withoutId(String handshakeAnswer) {
    return handshakeAnswer.replaceFirst("\"id\":\"[^\"]*\"", "\"id\":\"ID\"");
  }

  private static String base64url(String text) {
    return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object value) {
    return (Map<String, Object>) value;
  }

  // ---- the Node side ----

  /** target/node-interop with socketcluster-server 20 and jsonwebtoken, installed once. */
  private static Path installNodeSide() throws Exception {
    // Node is a requirement of the build, not an option: a skip here would let CI pass without
    // ever checking tokens against the real Node server.
    assertTrue(works("node", "--version"), "node is not on the PATH: " + INSTALL_NODE);
    assertTrue(works("npm", "--version"), "npm is not on the PATH: " + INSTALL_NODE);
    Path source = Path.of("src/test/node");
    Path dir = Path.of("target/node-interop");
    Files.createDirectories(dir);
    boolean stale = !Files.exists(dir.resolve("node_modules/socketcluster-server/package.json"))
        || !Files.exists(dir.resolve("package.json"))
        || Files.mismatch(source.resolve("package.json"), dir.resolve("package.json")) != -1;
    Files.copy(source.resolve("package.json"), dir.resolve("package.json"), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(source.resolve("interop.js"), dir.resolve("interop.js"), StandardCopyOption.REPLACE_EXISTING);
    if (stale) {
      Process npm = new ProcessBuilder("npm", "install", "--no-audit", "--no-fund", "--loglevel=error")
          .directory(dir.toFile()).redirectErrorStream(true).start();
      npm.getOutputStream().close();
      String log = new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(npm.waitFor(180, TimeUnit.SECONDS), "npm install did not finish");
      assertEquals(0, npm.exitValue(), "npm install failed:\n" + log);
    }
    return dir;
  }

  private static String node(Path dir, String input, String command) throws Exception {
    Process node = new ProcessBuilder("node", "interop.js", command).directory(dir.toFile()).start();
    try (var in = node.getOutputStream()) {
      in.write(input.getBytes(StandardCharsets.UTF_8));
    }
    var stderr = new java.util.concurrent.CompletableFuture<String>();
    Thread reader = new Thread(() -> {
      try {
        stderr.complete(new String(node.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        stderr.complete(e.toString());
      }
    });
    reader.start();
    String stdout = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!node.waitFor(60, TimeUnit.SECONDS)) {
      node.destroyForcibly();
      throw new AssertionError("node interop.js " + command + " did not finish");
    }
    assertEquals(0, node.exitValue(), "node interop.js " + command + " failed:\n" + stderr.get(5, TimeUnit.SECONDS));
    assertNotNull(stdout);
    return stdout;
  }

  private static boolean works(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

}
