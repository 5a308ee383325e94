package io.agserver.loadgen;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * {@code --name value} options of one command. Every option a scenario reads is recorded with the
 * value it used, so a result file says exactly how it was measured; an option nobody read is an
 * error (a misspelt option must not silently measure something else).
 */
final class Options {
  private final Map<String, String> given = new LinkedHashMap<>();
  private final Map<String, Object> used = new LinkedHashMap<>();

  Options(List<String> args) {
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (!a.startsWith("--") || a.length() < 3) {
        throw new IllegalArgumentException("expected --option, got " + a);
      }
      String name = a.substring(2);
      String value;
      int eq = name.indexOf('=');
      if (eq > 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      } else if (i + 1 < args.size() && !args.get(i + 1).startsWith("--")) {
        value = args.get(++i);
      } else {
        value = "true";
      }
      given.put(name, value);
    }
  }

  String str(String name, String dflt) {
    String v = given.getOrDefault(name, dflt);
    used.put(name, v);
    return v;
  }

  int integer(String name, int dflt) {
    String v = given.get(name);
    int r = v == null ? dflt : Integer.parseInt(v.replace("_", ""));
    used.put(name, r);
    return r;
  }

  long lng(String name, long dflt) {
    String v = given.get(name);
    long r = v == null ? dflt : Long.parseLong(v.replace("_", ""));
    used.put(name, r);
    return r;
  }

  double dbl(String name, double dflt) {
    String v = given.get(name);
    double r = v == null ? dflt : Double.parseDouble(v);
    used.put(name, r);
    return r;
  }

  boolean flag(String name, boolean dflt) {
    String v = given.get(name);
    boolean r = v == null ? dflt : Boolean.parseBoolean(v);
    used.put(name, r);
    return r;
  }

  /** Options actually read, with their values (defaults included), for the result file. */
  Map<String, Object> used() {
    return used;
  }

  void rejectUnused() {
    TreeSet<String> unknown = new TreeSet<>(given.keySet());
    unknown.removeAll(used.keySet());
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException("unknown option(s): --" + String.join(", --", unknown));
    }
  }
}
