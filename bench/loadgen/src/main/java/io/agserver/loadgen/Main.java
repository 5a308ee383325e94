package io.agserver.loadgen;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * agserver's load generator: raw SocketCluster protocol v2 over WebSocket, one event loop.
 *
 * <pre>
 * java -jar agserver-loadgen.jar SCENARIO --url ws://127.0.0.1:PORT/socketcluster/ --pid SERVER_PID [--option value]...
 *     scenarios: idle-memory connect rpc fanout channels cluster scale soak slow
 * java -jar agserver-loadgen.jar probe --url URL [--timeout-seconds 120]
 * java -jar agserver-loadgen.jar report [--json OUT] RESULT.json|RESULTS_DIR...
 * </pre>
 */
public final class Main {
  private Main() {}

  static final ObjectMapper JSON = new ObjectMapper()
      .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

  static final String USAGE = """
      usage: java -jar agserver-loadgen.jar SCENARIO --url ws://127.0.0.1:PORT/socketcluster/ --pid PID [options]
             java -jar agserver-loadgen.jar probe --url URL [--timeout-seconds 120]
             java -jar agserver-loadgen.jar report [--json OUT] RESULT.json|RESULTS_DIR...
             java -jar agserver-loadgen.jar check [--noise-cores 0.3] RESULT.json   (exit 0 ok, 1 failed, 3 noisy)
             java -jar agserver-loadgen.jar breakdown PROFILE.collapsed   (a server's CPU by part: kernel, container, agserver, JVM)

      scenarios (each bounded in time; prints one JSON result line on stdout):
        idle-memory  N idle connections held while answering pings: server RSS per connection
                     --connections 5000 --hold-seconds 12
        connect      warm-up rounds of W for S seconds, then N handshakes with K in flight: handshakes/s,
                     p50/p99   --warmup 5000 --warmup-seconds 60 --connections 10000 --in-flight 100
        coldstart    started with the server: polls --ready-url (HTTP 200; without it, the port open), then opens
                     connections for S seconds, K in flight, each closed once its handshake is answered:
                     handshakes/s, per second, p50/p99, seconds from --launched-at (epoch ms) to ready
                     --ready-url URL --seconds 10 --in-flight 100 --launched-at MS --ready-timeout-seconds 180
        rpc          C connections x W echo calls in flight: req/s, p50/p99/p99.9, errors
                     --connections 100 --in-flight 10 --payload-bytes 100 --warmup-seconds 30 --seconds 10
        fanout       S subscribers of one channel, one publisher, rate ramp: deliveries/s
                     --subscribers 1000 --start-rate 20 --factor 1.3 --step-seconds 2 --tail-seconds 1
        channels     S connections x K of C channels, P publishers, rate ramp: deliveries/s
                     --subscribers 1000 --channels 1000 --channels-per-subscriber 10 --publishers 10 --start-rate 2000
        cluster      fanout's layout (--subscribers ... --publishers as there) with the publishers connected to a second
                     server of the same cluster: --publish-url ws://127.0.0.1:PORT2/socketcluster/ --publisher-pid PID
                     --broker-pid PID (Redis, scc-broker: its CPU per publish) --helper-pid PID --settle-seconds 2
                     (all three: --rate R for one fixed step, --pass-ratio 0.97, --max-p99-ms 250, --max-steps 25, --bisect 2,
                      --retries 3 --noise-cores 0.25: a step failed while other processes took CPU is run again)
        soak         N connections (over --url URL1,URL2: one per server) logged in and subscribed, then for S seconds
                     a mix of echo RPCs, publishes, subscription churn, reconnects and logins; every delivery checked;
                     server heap after GC, RSS, threads, fds sampled (--pids P1,P2) into --csv FILE
                     --seconds 600 --connections 10000 --auth-key KEY --csv FILE --channels N/5 --channels-per-connection 2
                     --rpc-rate 200 --publish-rate 100 --churn-rate 20 --reconnect-rate 10 --login-rate 20
                     --sample-seconds 30 --warmup-seconds min(60, S/2) --in-flight 100 --line-file FILE
                     --faults (two servers): Redis restarted twice, the second server killed and started again, clients
                     that stop reading, a flooder, through --fault-command CMD (CMD redis-restart | kill 1 | start 1);
                     history channels hist-0.. checked by offset; a table by phase into --report-file FILE
                     --history-channels 50 (0 without --faults) --history-every 10 --history-rate 20 --stalled 100
                     --stall-seconds min(60, S/10) --fire-rate 40 --fire-bytes 2000 --flood-rate 2000
                     --flood-seconds min(30, S/20)
        scale        N idle connections held two ping intervals: alive, pinged, RSS and JVM heap per connection
                     --connections 20000 --hold-seconds 20 --heap auto|true|false --src-addrs N
        slow         R readers of one channel published to at a fixed rate, alone (the baseline), then beside S
                     clients that subscribe and stop reading (a pong every --pong-ms) until the server cut them all
                     off; then the stalled ones read again to see how each ended. Readers' latency in both phases,
                     losses, the server's RSS, heap in use, kernel TCP memory, metrics every --sample-seconds
                     --readers 1000 --stalled 1000 --rate 20 --payload-bytes 1000 --warmup-seconds 20
                     --baseline-seconds 30 --max-stall-seconds 300 --resume-seconds 60 --pong-ms 4000 --check-ms 500
                     --window-seconds 5 --max-ratio 2 --metrics-url http://HOST:PORT/metrics --line-file FILE
                     --stalled-rcvbuf 0 (the stalled clients' SO_RCVBUF; 0: the kernel's)

      common: --label NAME (server name in the result)  --out FILE (result also written there)
              --src-addrs N (sources 127.0.0.1..N)  --quiet-wait 20 --quiet-cores 0.3 (wait for a quiet machine)
              --max-seconds S (watchdog)  --open-timeout-ms 15000  --allow-nio true
      """;

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
      System.out.print(USAGE);
      return;
    }
    String command = args[0];
    List<String> rest = Arrays.asList(args).subList(1, args.length);
    switch (command) {
      case "report" -> System.exit(Report.main(rest));
      case "probe" -> System.exit(probe(new Options(rest)));
      case "check" -> System.exit(Report.check(rest));
      case "breakdown" -> System.exit(Breakdown.main(rest));
      default -> System.exit(scenario(command, new Options(rest)));
    }
  }

  private static int probe(Options o) throws Exception {
    String url = o.str("url", "ws://127.0.0.1:8000/socketcluster/");
    double timeout = o.dbl("timeout-seconds", 120);
    o.rejectUnused();
    long end = System.nanoTime() + (long) (timeout * 1e9);
    String last = "";
    try (Net net = new Net(url, 1, true)) {
      while (System.nanoTime() < end) {
        Opener op = new Opener(net, new Client.Listener() {}, 0, 1, 1, 3000).run(10);
        if (op.open.size() == 1) {
          Opener.closeAll(net, op.open, 3);
          return 0;
        }
        last = op.failures.toString();
        Thread.sleep(500);
      }
    }
    System.err.println("probe: no SocketCluster handshake at " + url + " within " + timeout + " s; last " + last);
    return 1;
  }

  private static int scenario(String name, Options o) throws Exception {
    String url = o.str("url", "ws://127.0.0.1:8000/socketcluster/");
    long pid = o.lng("pid", 0);
    String label = o.str("label", "server");
    String out = o.str("out", "");
    int srcAddrs = o.integer("src-addrs", 1);
    double quietWait = o.dbl("quiet-wait", 20);
    double quietCores = o.dbl("quiet-cores", 0.3);
    boolean allowNio = o.flag("allow-nio", true);

    Map<String, Object> result = new LinkedHashMap<>();
    result.put("scenario", name);
    result.put("server", label);
    result.put("ok", false);
    result.put("startedAt", Instant.now().toString());
    Map<String, Object> env = new LinkedHashMap<>();
    result.put("env", env);

    // soak takes one URL per server, comma-separated: the first is the scenario's own.
    Net net = new Net(url.split(",")[0], srcAddrs, allowNio);
    Scenario s = switch (name) {
      case "idle-memory" -> new Idle(net, pid, o, false);
      case "scale" -> new Idle(net, pid, o, true);
      case "connect" -> new Connect(net, pid, o);
      case "coldstart" -> new ColdStart(net, pid, o);
      case "rpc" -> new Rpc(net, pid, o);
      case "fanout", "channels", "cluster" -> new PubSub(net, pid, o, name);
      case "soak" -> new Soak(net, pid, o);
      case "slow" -> new SlowConsumers(net, pid, o);
      default -> {
        net.close();
        throw new IllegalArgumentException("unknown scenario " + name + "\n" + USAGE);
      }
    };
    o.rejectUnused();
    result.put("options", o.used());
    env.put("transport", net.transport());
    env.put("nproc", Proc.cpuTimes().length);
    env.put("loadgenCpus", statusField(0, "Cpus_allowed_list:"));
    env.put("serverCpus", pid > 0 ? statusField(pid, "Cpus_allowed_list:") : null);
    env.put("serverProcess", pid > 0 ? Proc.cmdName(pid) : null);
    env.put("openFilesLimit", Proc.limit("Max open files"));
    env.put("ephemeralPorts", readTrim("/proc/sys/net/ipv4/ip_local_port_range").replaceAll("\\s+", "-"));
    env.put("kernel", System.getProperty("os.version"));
    env.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));

    // The watchdog: whatever happens, the scenario ends and says why.
    Thread watchdog = new Thread(() -> {
      try {
        Thread.sleep((long) (s.maxSeconds * 1000));
      } catch (InterruptedException e) {
        return;
      }
      result.put("error", "watchdog: over " + s.maxSeconds + " s");
      emit(result, out);
      Runtime.getRuntime().halt(3);
    }, "watchdog");
    watchdog.setDaemon(true);
    result.put("summary", s.summary);
    result.put("cpu", s.cpu);
    result.put("details", s.details);

    try {
      Map<String, Object> quiet = new LinkedHashMap<>();
      double busy = 0;
      int waited = 0;
      if (quietWait > 0) {
        while (true) {
          busy = Proc.busyCores(1000);
          if (busy < quietCores || waited + 1 >= quietWait) {
            break;
          }
          waited++;
        }
      }
      quiet.put("busyCores", Stats.round3(busy));
      quiet.put("waitedSeconds", waited);
      result.put("quietBefore", quiet);
      Scenario.log("%s on %s (%s), machine busy %.2f cores after %d s", name, label, url, busy, waited);
      watchdog.start();
      s.run();
      result.put("ok", s.valid());
    } catch (Throwable t) {
      result.put("error", t.toString());
      t.printStackTrace();
    } finally {
      watchdog.interrupt();
      result.put("endedAt", Instant.now().toString());
      net.close();
    }
    emit(result, out);
    return Boolean.TRUE.equals(result.get("ok")) ? 0 : 1;
  }

  private static synchronized void emit(Map<String, Object> result, String out) {
    try {
      String line = JSON.writeValueAsString(result);
      System.out.println(line);
      System.out.flush();
      if (!out.isEmpty()) {
        Path p = Path.of(out);
        if (p.getParent() != null) {
          Files.createDirectories(p.getParent());
        }
        Files.writeString(p, line + "\n");
      }
    } catch (Exception e) {
      e.printStackTrace();
    }
  }

  private static String statusField(long pid, String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + (pid <= 0 ? "self" : Long.toString(pid)) + "/status"))) {
        if (line.startsWith(key)) {
          return line.substring(key.length()).trim();
        }
      }
    } catch (Exception e) {
      // not there
    }
    return "?";
  }

  private static String readTrim(String file) {
    try {
      try (var r = Files.newBufferedReader(Path.of(file))) {
        String line = r.readLine();
        return line == null ? "?" : line.trim();
      }
    } catch (Exception e) {
      return "?";
    }
  }
}
