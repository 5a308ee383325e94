package io.agserver.redis;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;

/**
 * A real {@code redis-server} on a free loopback port, started by the test (Debian's package:
 * .ci/run installs it), with no persistence, so that a restart comes back empty as a crashed
 * Redis does. {@link #stop()} and {@link #start()} restart it on the same port.
 */
public final class RedisProcess implements AutoCloseable {

  private final int port;
  private final Path dir;
  private final boolean clusterNode;
  private Process process;

  private RedisProcess(int port, Path dir, boolean clusterNode) {
    this.port = port;
    this.dir = dir;
    this.clusterNode = clusterNode;
  }

  /** A standalone Redis, started. */
  public static RedisProcess start(Path dir) throws IOException {
    RedisProcess redis = new RedisProcess(freePort(), dir, false);
    redis.start();
    return redis;
  }

  /** A standalone Redis on a port of its own, not started yet. */
  public static RedisProcess notStarted(Path dir) throws IOException {
    return new RedisProcess(freePort(), dir, false);
  }

  /** Three primaries (no replicas) joined into one Redis Cluster with every slot assigned. */
  public static List<RedisProcess> cluster(Path dir) throws IOException, InterruptedException {
    List<RedisProcess> nodes = new ArrayList<>();
    List<String> command = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
    for (int i = 0; i < 3; i++) {
      RedisProcess node = new RedisProcess(freeClusterPort(), dir, true);
      node.start();
      nodes.add(node);
      command.add("127.0.0.1:" + node.port);
    }
    command.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
    Process create = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve("cluster-create.log").toFile()).start();
    if (!create.waitFor(60, TimeUnit.SECONDS) || create.exitValue() != 0) {
      throw new IOException("redis-cli --cluster create failed: " + Files.readString(dir.resolve("cluster-create.log")));
    }
    // Every node agrees that the cluster is whole before a client asks it for its topology.
    for (RedisProcess node : nodes) {
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> node.cli("CLUSTER", "INFO").contains("cluster_state:ok"));
    }
    return nodes;
  }

  public int port() {
    return port;
  }

  public String uri() {
    return "redis://127.0.0.1:" + port;
  }

  public synchronized void start() throws IOException {
    List<String> command = new ArrayList<>(List.of("redis-server", "--port", String.valueOf(port),
        "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString(),
        "--logfile", dir.resolve("redis-" + port + ".log").toString()));
    if (clusterNode) {
      command.addAll(List.of("--cluster-enabled", "yes", "--cluster-config-file", "nodes-" + port + ".conf"));
    }
    process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    Awaitility.await().atMost(Duration.ofSeconds(20)).until(this::answers);
  }

  /** Kills it (SIGKILL: nothing is saved, clients see the connection drop). */
  public synchronized void stop() throws InterruptedException {
    if (process != null) {
      process.destroyForcibly();
      process.waitFor(20, TimeUnit.SECONDS);
      process = null;
    }
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }

  private boolean answers() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
      socket.getOutputStream().write("PING\r\n".getBytes());
      return socket.getInputStream().read() == '+';
    } catch (IOException e) {
      return false;
    }
  }

  /** Runs redis-cli against this server and returns its output. */
  public String cli(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("redis-cli", "-p", String.valueOf(port)));
    command.addAll(List.of(args));
    Process cli = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(cli.getInputStream().readAllBytes());
    cli.waitFor(20, TimeUnit.SECONDS);
    return out;
  }

  /** A free port whose cluster bus port (port + 10000) is free too. */
  private static int freeClusterPort() throws IOException {
    for (int attempt = 0; attempt < 100; attempt++) {
      int port = freePort();
      if (port + 10000 <= 65535) {
        try (ServerSocket bus = new ServerSocket(port + 10000, 1, java.net.InetAddress.getLoopbackAddress())) {
          return port;
        } catch (IOException taken) {
          // try another
        }
      }
    }
    throw new IOException("no free port pair for a Redis Cluster node");
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
