package sluice.peer;

import java.util.HashMap;
import java.util.Map;

/** The peers' command line: key=value arguments (shared with the Flink peer). */
final class Arguments {
  private Arguments() {}

  static Map<String, String> parse(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (eq < 1) throw new IllegalArgumentException("arguments are key=value, not " + arg);
      options.put(arg.substring(0, eq), arg.substring(eq + 1));
    }
    return options;
  }

  static String required(Map<String, String> options, String name) {
    String value = options.get(name);
    if (value == null) throw new IllegalArgumentException("missing argument " + name + "=...");
    return value;
  }
}
