package org.g2g.cli;

import org.g2g.config.ConfigError;
import org.g2g.config.Key;
import org.g2g.config.Keys;
import org.g2g.config.RunConfig;
import org.g2g.model.Architecture;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The run options of every command that builds a model (train, profile, sweep), generated from
 * {@link Keys} so each option is defined once: --KEY VALUE, plus --config FILE and --set k=v.
 * Precedence: defaults < base (a resumed run's saved config) < --config < options < --set.
 */
final class RunOptions {
    private RunOptions() {}

    static void addTo(CommandSpec spec) {
        for (Key k : Keys.ALL) {
            OptionSpec.Builder b = OptionSpec.builder("--" + k.name())
                    .description(k.help() + (k.defaultValue() == null ? "" : " (default: " + k.defaultValue() + ")"))
                    .paramLabel(k.choices() != null ? String.join("|", k.choices()) : label(k))
                    .type(String.class);
            if (k.type() == Boolean.class) b.arity("0..1").fallbackValue("true");
            spec.addOption(b.build());
        }
        spec.addOption(OptionSpec.builder("--config").paramLabel("FILE").type(String.class)
                .description("JSON or YAML file of option: value (same names as the options)").build());
        spec.addOption(OptionSpec.builder("--set").paramLabel("KEY=VALUE").type(String[].class).arity("1")
                .description("override one option, e.g. --set lr=3e-4 (repeatable)").build());
    }

    private static String label(Key k) {
        if (k.type() == Integer.class || k.type() == Long.class) return "N";
        if (k.type() == Double.class) return "X";
        if (k.type() == Boolean.class) return "BOOL";
        if (k.name().equals("data")) return "DIR";
        if (k.name().equals("device")) return "auto|cpu|cuda|cuda:N";
        return "VALUE";
    }

    /** Options the user gave explicitly (on the command line, in --config, or with --set). */
    static Map<String, Object> explicit(ParseResult pr) {
        Map<String, Object> m = new LinkedHashMap<>();
        OptionSpec cfg = pr.matchedOption("--config");
        if (cfg != null) {
            for (Map.Entry<String, Object> e : RunConfig.readMap(Path.of((String) cfg.getValue())).entrySet()) {
                if (org.g2g.train.RunRecorder.NOT_OPTIONS.contains(e.getKey())) continue; // a run's config.json works as --config
                String key = e.getKey().replace('_', '-');
                Keys.get(key); // unknown keys fail here, naming the key
                m.put(key, e.getValue());
            }
        }
        for (Key k : Keys.ALL) {
            OptionSpec o = pr.matchedOption("--" + k.name());
            if (o != null) m.put(k.name(), (String) o.getValue());
        }
        OptionSpec sets = pr.matchedOption("--set");
        if (sets != null) {
            for (String a : (String[]) sets.getValue()) {
                int eq = a.indexOf('=');
                if (eq <= 0) throw new ConfigError("--set expects key=value, got '" + a + "'");
                String key = a.substring(0, eq).trim().replace('_', '-');
                Keys.get(key);
                m.put(key, a.substring(eq + 1));
            }
        }
        return m;
    }

    static RunConfig resolve(ParseResult pr, RunConfig base) {
        Map<String, Object> ex = explicit(pr);
        RunConfig c = base == null ? RunConfig.builder().setAll(ex).build() : base.with(ex);
        Architecture.requireReachable(c);
        return c;
    }

    static List<String> describe(RunConfig c) {
        List<String> lines = new ArrayList<>();
        StringBuilder sb = new StringBuilder("config:");
        for (Map.Entry<String, Object> e : c.asMap().entrySet()) {
            String item = " " + e.getKey() + "=" + e.getValue();
            if (sb.length() + item.length() > 100) { lines.add(sb.toString()); sb = new StringBuilder("       "); }
            sb.append(item);
        }
        lines.add(sb.toString());
        return lines;
    }
}
