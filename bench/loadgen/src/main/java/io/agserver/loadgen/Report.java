package io.agserver.loadgen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * One table from result files of several servers: rows are metrics, columns the servers
 * (agserver, node, their ratio, bare, agserver as a share of bare; any other server label after
 * them). With several runs of a server and scenario, each figure is the median of the runs that
 * ended ok. The cluster scenario has a table of its own: the clustered servers (agserver-redis,
 * node-scc), their ratio, the same servers alone (agserver, node), their ratio, and each
 * clustered server as a share of itself alone.
 */
final class Report {
  private Report() {}

  static final String AG = "agserver";
  static final String NODE = "node";
  static final String BARE = "bare";
  /** agserver with socketcluster.warmUp=0: the coldstart scenario's "without". */
  static final String AG_NO_WARMUP = "agserver-nowarmup";
  static final String AG_REDIS = "agserver-redis";
  static final String NODE_SCC = "node-scc";
  static final String CLUSTER = "cluster";

  /** A column: a server's figure, or the ratio (a/b) or share (a % of b) of two servers' figures. */
  private record Column(String title, String server, String a, String b, boolean percent) {
    static Column server(String s) {
      return new Column(s, s, null, null, false);
    }

    static Column ratio(String a, String b) {
      return new Column(a + "/" + b, null, a, b, false);
    }

    static Column share(String a, String b) {
      return new Column(a + " % of " + b, null, a, b, true);
    }
  }

  /** How a row gets its figure from one result, and how it is shown. */
  private record Row(String name, String scenario, Function<JsonNode, Double> value, String format, boolean compare) {}

  private static Function<JsonNode, Double> summary(String key) {
    return r -> number(r.path("summary").path(key));
  }

  private static Function<JsonNode, Double> summaryDiv(String key, double by) {
    return r -> {
      Double v = number(r.path("summary").path(key));
      return v == null ? null : v / by;
    };
  }

  private static Function<JsonNode, Double> cpu(String key) {
    return r -> number(r.path("cpu").path(key));
  }

  private static Function<JsonNode, Double> detail(String object, String key) {
    return r -> number(r.path("details").path(object).path(key));
  }

  private static Double number(JsonNode n) {
    if (n == null || !n.isNumber()) {
      return null;
    }
    double d = n.asDouble();
    return Double.isFinite(d) ? d : null;
  }

  private static final List<Row> ROWS = List.of(
      new Row("handshakes/s", "connect", summary("handshakesPerSec"), "int", true),
      new Row("  handshake p99 (ms)", "connect", summary("p99Ms"), "ms", true),
      new Row("cold start: handshakes/s, first 10 s after ready", "coldstart", summary("handshakesPerSec"), "int", true),
      new Row("  cold start: handshake p99 (ms)", "coldstart", summary("p99Ms"), "ms", true),
      new Row("  cold start: seconds from launch to ready", "coldstart", summary("readySeconds"), "cores", true),
      new Row("RPC req/s", "rpc", summary("requestsPerSec"), "int", true),
      new Row("  RPC p50 (ms)", "rpc", summary("p50Ms"), "ms", true),
      new Row("  RPC p99 (ms)", "rpc", summary("p99Ms"), "ms", true),
      new Row("fan-out deliveries/s", "fanout", summary("sustainedDeliveriesPerSec"), "int", true),
      new Row("  fan-out p99 (ms)", "fanout", summary("p99Ms"), "ms", true),
      new Row("channels deliveries/s", "channels", summary("sustainedDeliveriesPerSec"), "int", true),
      new Row("  channels p99 (ms)", "channels", summary("p99Ms"), "ms", true),
      new Row("RSS per idle connection (KB)", "idle-memory", summaryDiv("bytesPerConn", 1024), "kb", true),
      new Row("scale: connections alive", "scale", summary("aliveAtEnd"), "int", false),
      new Row("scale: alive that answered pings", "scale", summary("pinged"), "int", false),
      new Row("scale: RSS per connection (KB)", "scale", summaryDiv("bytesPerConn", 1024), "kb", true),
      new Row("scale: heap per connection (KB)", "scale", summaryDiv("heapBytesPerConn", 1024), "kb", true),
      new Row("connect: failed", "connect", summary("failed"), "int", false),
      new Row("RPC errors", "rpc", summary("errors"), "int", false),
      new Row("fan-out lost deliveries", "fanout", summary("lost"), "int", false),
      new Row("channels lost deliveries", "channels", summary("lost"), "int", false),
      new Row("RPC packets per frame received", "rpc", detail("received", "packetsPerFrame"), "cores", false),
      new Row("fan-out packets per frame received", "fanout", detail("subscribersReceived", "packetsPerFrame"), "cores", false),
      new Row("channels packets per frame received", "channels", detail("subscribersReceived", "packetsPerFrame"), "cores", false),
      new Row("server cores: connect", "connect", cpu("serverCores"), "cores", false),
      new Row("load generator cores: connect", "connect", cpu("loadgenCores"), "cores", false),
      new Row("server cores: rpc", "rpc", cpu("serverCores"), "cores", false),
      new Row("load generator cores: rpc", "rpc", cpu("loadgenCores"), "cores", false),
      new Row("server cores: fan-out", "fanout", cpu("serverCores"), "cores", false),
      new Row("load generator cores: fan-out", "fanout", cpu("loadgenCores"), "cores", false),
      new Row("server cores: channels", "channels", cpu("serverCores"), "cores", false),
      new Row("load generator cores: channels", "channels", cpu("loadgenCores"), "cores", false),
      new Row("other processes' cores (worst)", "*", cpu("otherCores"), "cores", false));

  private static final List<Row> CLUSTER_ROWS = List.of(
      new Row("cluster deliveries/s", CLUSTER, summary("sustainedDeliveriesPerSec"), "int", true),
      new Row("  cluster p50 (ms)", CLUSTER, summary("p50Ms"), "ms", true),
      new Row("  cluster p99 (ms)", CLUSTER, summary("p99Ms"), "ms", true),
      new Row("  cluster p99 at half that rate (ms)", CLUSTER, summary("halfLoadP99Ms"), "ms", true),
      new Row("broker CPU per publish (us)", CLUSTER, summary("brokerCpuUsPerPublish"), "us", true),
      new Row("cluster lost deliveries", CLUSTER, summary("lost"), "int", false),
      new Row("cluster packets per frame received", CLUSTER, detail("subscribersReceived", "packetsPerFrame"), "cores", false),
      new Row("server cores: cluster", CLUSTER, cpu("serverCores"), "cores", false),
      new Row("publishing server cores: cluster", CLUSTER, cpu("publisherCores"), "cores", false),
      new Row("broker cores: cluster", CLUSTER, cpu("brokerCores"), "cores", false),
      new Row("load generator cores: cluster", CLUSTER, cpu("loadgenCores"), "cores", false),
      new Row("other processes' cores (worst)", CLUSTER, cpu("otherCores"), "cores", false));

  static int main(List<String> args) throws Exception {
    String jsonOut = null;
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      if (args.get(i).equals("--json") && i + 1 < args.size()) {
        jsonOut = args.get(++i);
      } else if (Files.isDirectory(Path.of(args.get(i)))) {
        // A results directory: its result files, in name order.
        try (var list = Files.list(Path.of(args.get(i)))) {
          list.filter(p -> p.getFileName().toString().endsWith(".json"))
              .filter(p -> !p.getFileName().toString().equals("medians.json"))
              .filter(p -> !p.getFileName().toString().contains(".noisy"))
              .sorted().forEach(files::add);
        }
      } else {
        files.add(Path.of(args.get(i)));
      }
    }
    if (files.isEmpty()) {
      System.err.println("usage: report [--json OUT] RESULT.json|RESULTS_DIR...");
      return 2;
    }
    // server -> scenario -> results (ok ones; failed ones are kept apart and only counted)
    Map<String, Map<String, List<JsonNode>>> ok = new LinkedHashMap<>();
    Map<String, Map<String, Integer>> failed = new LinkedHashMap<>();
    Set<String> servers = new LinkedHashSet<>(List.of(AG, NODE, BARE));
    for (Path f : files) {
      // A result file holds one JSON result (or several, one after the other); anything else
      // (the medians file, say) is passed over.
      List<JsonNode> values = new ArrayList<>();
      try (var it = Main.JSON.readerFor(JsonNode.class).<JsonNode>readValues(f.toFile())) {
        while (it.hasNextValue()) {
          values.add(it.nextValue());
        }
      } catch (Exception e) {
        System.err.println("report: skipped " + f + " (not JSON results)");
      }
      for (JsonNode r : values) {
        if (!r.isObject() || !r.has("scenario")) {
          continue;
        }
        String server = r.path("server").asText("server");
        String scenario = r.path("scenario").asText("?");
        servers.add(server);
        if (r.path("ok").asBoolean(false)) {
          ok.computeIfAbsent(server, k -> new LinkedHashMap<>()).computeIfAbsent(scenario, k -> new ArrayList<>()).add(r);
        } else {
          failed.computeIfAbsent(server, k -> new LinkedHashMap<>()).merge(scenario, 1, Integer::sum);
        }
      }
    }
    // The cluster scenario's results make a table of their own; the rest, the main table.
    Map<String, Map<String, List<JsonNode>>> okMain = new LinkedHashMap<>();
    Map<String, Map<String, List<JsonNode>>> okCluster = new LinkedHashMap<>();
    ok.forEach((server, byScenario) -> byScenario.forEach((scenario, rs) ->
        (scenario.equals(CLUSTER) ? okCluster : okMain).computeIfAbsent(server, k -> new LinkedHashMap<>()).put(scenario, rs)));
    Set<String> mainServers = new LinkedHashSet<>(List.of(AG, NODE, BARE));
    Set<String> clusterServers = new LinkedHashSet<>(List.of(AG_REDIS, NODE_SCC, AG, NODE));
    for (String s : servers) {
      boolean inCluster = okCluster.containsKey(s) || failed.getOrDefault(s, Map.of()).containsKey(CLUSTER);
      boolean inMain = okMain.containsKey(s) || failed.getOrDefault(s, Map.of()).keySet().stream().anyMatch(sc -> !sc.equals(CLUSTER));
      if (inCluster) {
        clusterServers.add(s);
      }
      if (inMain || (!inCluster && !List.of(AG_REDIS, NODE_SCC).contains(s))) {
        mainServers.add(s);
      }
    }
    ObjectNode medians = Main.JSON.createObjectNode();
    boolean starred = false;
    boolean anyMain = !okMain.isEmpty() || failed.values().stream().anyMatch(m -> m.keySet().stream().anyMatch(sc -> !sc.equals(CLUSTER)));
    if (anyMain || okCluster.isEmpty()) {
      List<Column> columns = new ArrayList<>(List.of(Column.server(AG), Column.server(NODE), Column.ratio(AG, NODE),
          Column.server(BARE), Column.share(AG, BARE)));
      for (String s : mainServers) {
        if (!List.of(AG, NODE, BARE).contains(s)) {
          columns.add(Column.server(s));
          if (s.equals(AG_NO_WARMUP)) {
            columns.add(Column.ratio(AG_NO_WARMUP, NODE));
          }
        }
      }
      starred |= table(ROWS, columns, mainServers, okMain, medians);
    }
    if (!okCluster.isEmpty() || failed.values().stream().anyMatch(m -> m.containsKey(CLUSTER))) {
      if (anyMain) {
        System.out.println();
      }
      List<Column> columns = new ArrayList<>(List.of(Column.server(AG_REDIS), Column.server(NODE_SCC),
          Column.ratio(AG_REDIS, NODE_SCC), Column.server(AG), Column.server(NODE), Column.ratio(AG, NODE),
          Column.share(AG_REDIS, AG), Column.share(NODE_SCC, NODE)));
      for (String s : clusterServers) {
        if (!List.of(AG_REDIS, NODE_SCC, AG, NODE).contains(s)) {
          columns.add(Column.server(s));
        }
      }
      starred |= table(CLUSTER_ROWS, columns, clusterServers, okCluster, medians);
    }
    System.out.println(footer(servers, ok, failed, starred));
    if (jsonOut != null) {
      Files.writeString(Path.of(jsonOut), Main.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(medians) + "\n");
    }
    return 0;
  }

  /** Prints one table; true when a rate in it is marked as the load generator's limit. */
  private static boolean table(List<Row> rows, List<Column> columns, Set<String> servers,
      Map<String, Map<String, List<JsonNode>>> ok, ObjectNode medians) {
    List<String> header = new ArrayList<>(List.of("metric"));
    columns.forEach(c -> header.add(c.title()));
    List<List<String>> table = new ArrayList<>();
    for (Row row : rows) {
      Map<String, Double> v = new LinkedHashMap<>();
      for (String s : servers) {
        Double m;
        if (row.name.contains("(worst)")) {
          // the worst of the runs: of every scenario ("*"), or of one
          m = null;
          for (Map.Entry<String, List<JsonNode>> e : ok.getOrDefault(s, Map.of()).entrySet()) {
            if (!row.scenario.equals("*") && !row.scenario.equals(e.getKey())) {
              continue;
            }
            for (JsonNode r : e.getValue()) {
              Double x = row.value.apply(r);
              m = x == null ? m : m == null ? x : Math.max(m, x);
            }
          }
        } else {
          m = median(ok.getOrDefault(s, Map.of()).getOrDefault(row.scenario, List.of()), row.value);
        }
        v.put(s, m);
        if (m != null) {
          medians.with(s).with(row.scenario.equals("*") ? "all" : row.scenario).put(row.name.trim(), m);
        }
      }
      boolean any = v.values().stream().anyMatch(x -> x != null);
      if (!any) {
        continue;
      }
      List<String> cells = new ArrayList<>();
      cells.add(row.name + marks(row, ok, v));
      for (Column c : columns) {
        if (c.server() != null) {
          cells.add(cell(v.get(c.server()), row.format, hasScenario(ok, c.server(), row.scenario)) + saturated(row, ok, c.server()));
        } else if (!row.compare) {
          cells.add("");
        } else {
          cells.add(c.percent() ? percent(v.get(c.a()), v.get(c.b())) : ratio(v.get(c.a()), v.get(c.b())));
        }
      }
      table.add(cells);
    }
    print(header, table);
    return table.stream().anyMatch(r -> r.stream().anyMatch(c -> c.endsWith("*")));
  }

  /**
   * Whether one result can be used: exit status 0 when it ended ok on a quiet machine, 1 when it
   * failed, 3 when other processes took more than {@code --noise-cores} of the CPUs while it
   * measured (then bench/run measures again).
   */
  static int check(List<String> args) throws Exception {
    double noise = 0.3;
    Path file = null;
    for (int i = 0; i < args.size(); i++) {
      if (args.get(i).equals("--noise-cores") && i + 1 < args.size()) {
        noise = Double.parseDouble(args.get(++i));
      } else {
        file = Path.of(args.get(i));
      }
    }
    if (file == null) {
      System.err.println("usage: check [--noise-cores 0.3] RESULT.json");
      return 2;
    }
    JsonNode r = Main.JSON.readTree(file.toFile());
    if (!r.path("ok").asBoolean(false)) {
      System.out.println("failed: " + r.path("error").asText("?"));
      return 1;
    }
    Double other = number(r.path("cpu").path("otherCores"));
    if (other != null && other > noise) {
      System.out.printf(Locale.ROOT, "noisy: other processes took %.2f cores%n", other);
      return 3;
    }
    System.out.println("ok");
    return 0;
  }

  /** '+' after a pub/sub rate when some server passed every step (the ramp ended, not the server). */
  private static String marks(Row row, Map<String, Map<String, List<JsonNode>>> ok, Map<String, Double> v) {
    if (!row.format.equals("int") || !row.name.contains("deliveries/s")) {
      return "";
    }
    for (Map<String, List<JsonNode>> byScenario : ok.values()) {
      for (JsonNode r : byScenario.getOrDefault(row.scenario, List.of())) {
        if (r.path("summary").path("rampLimitReached").asBoolean(false)) {
          return " (ramp limit hit: more)";
        }
      }
    }
    return "";
  }

  /**
   * '*' after a rate whose load generator was saturated (median of its cores at least 0.9): the
   * server may do more than the figure says.
   */
  private static String saturated(Row row, Map<String, Map<String, List<JsonNode>>> ok, String server) {
    if (!row.compare || !row.format.equals("int")) {
      return "";
    }
    Double lg = median(ok.getOrDefault(server, Map.of()).getOrDefault(row.scenario, List.of()), cpu("loadgenCores"));
    return lg != null && lg >= 0.9 ? "*" : "";
  }

  private static boolean hasScenario(Map<String, Map<String, List<JsonNode>>> ok, String server, String scenario) {
    if (scenario.equals("*")) {
      return !ok.getOrDefault(server, Map.of()).isEmpty();
    }
    return !ok.getOrDefault(server, Map.of()).getOrDefault(scenario, List.of()).isEmpty();
  }

  static Double median(List<JsonNode> results, Function<JsonNode, Double> f) {
    List<Double> xs = new ArrayList<>();
    for (JsonNode r : results) {
      Double d = f.apply(r);
      if (d != null) {
        xs.add(d);
      }
    }
    if (xs.isEmpty()) {
      return null;
    }
    Collections.sort(xs);
    int n = xs.size();
    return n % 2 == 1 ? xs.get(n / 2) : (xs.get(n / 2 - 1) + xs.get(n / 2)) / 2;
  }

  private static String cell(Double v, String format, boolean measured) {
    if (v == null) {
      return measured ? "n/a" : "-";
    }
    return switch (format) {
      case "int" -> String.format(Locale.ROOT, "%,d", Math.round(v));
      case "ms" -> v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
      case "kb", "cores", "us" -> String.format(Locale.ROOT, "%.2f", v);
      default -> String.valueOf(v);
    };
  }

  private static String ratio(Double a, Double b) {
    if (a == null || b == null || b == 0) {
      return "";
    }
    return String.format(Locale.ROOT, "%.2fx", a / b);
  }

  private static String percent(Double a, Double b) {
    if (a == null || b == null || b == 0) {
      return "";
    }
    return String.format(Locale.ROOT, "%.0f%%", 100 * a / b);
  }

  private static void print(List<String> header, List<List<String>> rows) {
    int[] w = new int[header.size()];
    for (int i = 0; i < w.length; i++) {
      w[i] = header.get(i).length();
      for (List<String> r : rows) {
        w[i] = Math.max(w[i], r.get(i).length());
      }
    }
    StringBuilder sb = new StringBuilder();
    line(sb, header, w);
    StringBuilder rule = new StringBuilder();
    for (int i = 0; i < w.length; i++) {
      rule.append(i == 0 ? "" : "-+-").append("-".repeat(w[i]));
    }
    sb.append(rule).append('\n');
    for (List<String> r : rows) {
      line(sb, r, w);
    }
    System.out.print(sb);
  }

  private static void line(StringBuilder sb, List<String> cells, int[] w) {
    for (int i = 0; i < cells.size(); i++) {
      String c = cells.get(i);
      if (i == 0) {
        sb.append(c).append(" ".repeat(w[i] - c.length()));
      } else {
        sb.append(" | ").append(" ".repeat(w[i] - c.length())).append(c);
      }
    }
    sb.append('\n');
  }

  private static String footer(Set<String> servers, Map<String, Map<String, List<JsonNode>>> ok,
      Map<String, Map<String, Integer>> failed, boolean starred) {
    StringBuilder sb = new StringBuilder("runs (median of the ok ones):");
    for (String s : servers) {
      Map<String, List<JsonNode>> m = ok.getOrDefault(s, Map.of());
      Map<String, Integer> f = failed.getOrDefault(s, Map.of());
      if (m.isEmpty() && f.isEmpty()) {
        continue;
      }
      sb.append(' ').append(s).append(" {");
      List<String> parts = new ArrayList<>();
      Set<String> scenarios = new LinkedHashSet<>(m.keySet());
      scenarios.addAll(f.keySet());
      for (String sc : scenarios) {
        int n = m.getOrDefault(sc, List.of()).size();
        int bad = f.getOrDefault(sc, 0);
        parts.add(sc + " " + n + (bad > 0 ? " (+" + bad + " FAILED)" : ""));
      }
      sb.append(String.join(", ", parts)).append('}');
    }
    sb.append("\nrates: higher is better; ms, KB: lower is better. '-': not measured, n/a: not applicable.");
    if (starred) {
      sb.append("\n*: the load generator was saturated (>= 0.9 cores): the server may do more than that.");
    }
    return sb.toString();
  }
}
