package org.g2g;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The package graph of src/main, derived from the sources (imports and fully qualified
 * names), has no cycle and follows the layers drawn in the README's Design section: a
 * package uses only packages on lower lines of that drawing.
 */
class PackageGraphTest {
    static final Path MAIN = Path.of("src/main/java");
    static final Path README = Path.of("README.md");
    private static final Pattern PACKAGE = Pattern.compile("(?m)^package\\s+([\\w.]+)\\s*;");
    /** org.g2g.x.y.Type: lower-case segments up to the first upper-case one name the package. */
    private static final Pattern REFERENCE = Pattern.compile("\\b(org\\.g2g(?:\\.[a-z][a-z0-9_]*)*)\\.[A-Z]");

    /** package -> packages it uses, with "org.g2g." dropped ("" for org.g2g itself). */
    static Map<String, Set<String>> graph(Path root) throws IOException {
        Map<String, Set<String>> g = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> s = Files.walk(root)) {
            files = s.filter(p -> p.toString().endsWith(".java")).toList();
        }
        for (Path f : files) {
            String src = stripCommentsAndStrings(Files.readString(f));
            Matcher pm = PACKAGE.matcher(src);
            if (!pm.find()) continue;
            String from = shortName(pm.group(1));
            Set<String> to = g.computeIfAbsent(from, k -> new TreeSet<>());
            Matcher m = REFERENCE.matcher(src);
            while (m.find()) {
                String p = shortName(m.group(1));
                if (!p.equals(from)) to.add(p);
            }
        }
        return g;
    }

    static String shortName(String pkg) {
        return pkg.equals("org.g2g") ? "" : pkg.substring("org.g2g.".length());
    }

    static String stripCommentsAndStrings(String s) {
        return s.replaceAll("(?s)/\\*.*?\\*/", " ")
                .replaceAll("\"(?:\\\\.|[^\"\\\\])*\"", "\"\"")
                .replaceAll("//[^\n]*", " ");
    }

    /** A cycle as "a -> b -> a", or null when the graph has none. */
    static String cycle(Map<String, Set<String>> g) {
        Map<String, Integer> state = new LinkedHashMap<>(); // 1 on the path, 2 done
        for (String start : g.keySet()) {
            List<String> path = new ArrayList<>();
            String c = dfs(g, start, state, path);
            if (c != null) return c;
        }
        return null;
    }

    private static String dfs(Map<String, Set<String>> g, String n, Map<String, Integer> state, List<String> path) {
        Integer st = state.get(n);
        if (st != null && st == 2) return null;
        if (st != null && st == 1) {
            List<String> c = new ArrayList<>(path.subList(path.indexOf(n), path.size()));
            c.add(n);
            return String.join(" -> ", c);
        }
        state.put(n, 1);
        path.add(n);
        for (String m : g.getOrDefault(n, Set.of())) {
            String c = dfs(g, m, state, path);
            if (c != null) return c;
        }
        path.remove(path.size() - 1);
        state.put(n, 2);
        return null;
    }

    /**
     * The layers drawn in the README between the "package layers" markers, top first: each
     * line lists packages separated by spaces; "(root)" is org.g2g itself.
     */
    static List<Set<String>> readmeLayers() throws IOException {
        String r = Files.readString(README);
        int a = r.indexOf("<!-- package layers -->"), b = r.indexOf("<!-- /package layers -->");
        assertTrue(a >= 0 && b > a, "README.md: no <!-- package layers --> block");
        List<Set<String>> layers = new ArrayList<>();
        for (String line : r.substring(a, b).split("\n")) {
            line = line.strip();
            if (line.isEmpty() || line.startsWith("<!--") || line.startsWith("```") || line.startsWith("|")) {
                continue;
            }
            Set<String> layer = new LinkedHashSet<>();
            for (String p : line.split("\\s+")) layer.add(p.equals("(root)") ? "" : p);
            layers.add(layer);
        }
        return layers;
    }

    @Test
    void cycleFinderFindsACycle() {
        Map<String, Set<String>> g = new TreeMap<>();
        g.put("a", Set.of("b"));
        g.put("b", Set.of("c"));
        g.put("c", Set.of("a"));
        assertEquals("a -> b -> c -> a", cycle(g));
        g.put("c", Set.of());
        assertEquals(null, cycle(g));
    }

    @Test
    void referencesAreFoundInImportsAndQualifiedNames() {
        String src = "package org.g2g.cli;\nimport org.g2g.config.RunConfig;\nimport static org.g2g.io.AtomicFiles.write;\n"
                + "class X { Object o = new org.g2g.UserError(\"org.g2g.train.Trainer\"); // org.g2g.sweep.Grid\n}";
        Matcher m = REFERENCE.matcher(stripCommentsAndStrings(src));
        Set<String> found = new TreeSet<>();
        while (m.find()) found.add(shortName(m.group(1)));
        assertEquals(Set.of("", "config", "io"), found);
    }

    @Test
    void mainHasNoPackageCycle() throws IOException {
        Map<String, Set<String>> g = graph(MAIN);
        assertTrue(g.size() > 10, "found only " + g.keySet());
        String c = cycle(g);
        assertEquals(null, c, "package cycle in src/main: " + c);
    }

    @Test
    void mainFollowsTheReadmeLayers() throws IOException {
        Map<String, Set<String>> g = graph(MAIN);
        List<Set<String>> layers = readmeLayers();
        Map<String, Integer> level = new TreeMap<>();
        for (int i = 0; i < layers.size(); i++) for (String p : layers.get(i)) level.put(p, i);
        assertEquals(g.keySet(), level.keySet(), "README layers must name every package of src/main exactly");
        List<String> upward = new ArrayList<>();
        for (Map.Entry<String, Set<String>> e : g.entrySet()) {
            for (String to : e.getValue()) {
                if (level.get(to) <= level.get(e.getKey())) upward.add(name(e.getKey()) + " -> " + name(to));
            }
        }
        assertTrue(upward.isEmpty(), "uses not drawn in the README's package layers (a package may use only "
                + "packages on lower lines): " + upward);
    }

    /**
     * The drawing is the code's real layering, not just a permitted one: every package sits on the
     * line just above the highest package it uses (the bottom line when it uses none), so each line
     * is as low as its imports allow and the drawing changes when the imports do.
     */
    @Test
    void readmeLayersAreAsLowAsTheImportsAllow() throws IOException {
        Map<String, Set<String>> g = graph(MAIN);
        List<Set<String>> layers = readmeLayers();
        Map<String, Integer> level = new TreeMap<>();
        for (int i = 0; i < layers.size(); i++) for (String p : layers.get(i)) level.put(p, i);
        assertEquals(g.keySet(), level.keySet(), "README layers must name every package of src/main exactly");
        Map<String, Integer> height = new TreeMap<>();
        for (String p : g.keySet()) height(p, g, height);
        int top = height.values().stream().max(Integer::compare).orElse(0);
        List<String> want = new ArrayList<>();
        for (int h = top; h >= 0; h--) {
            List<String> line = new ArrayList<>();
            for (String p : g.keySet()) if (height.get(p) == h) line.add(name(p));
            want.add(String.join(" ", line));
        }
        List<String> drawn = new ArrayList<>();
        for (Set<String> layer : layers) {
            drawn.add(String.join(" ", layer.stream().map(PackageGraphTest::name).sorted().toList()));
        }
        assertEquals(want, drawn, "README package layers: draw each package just above the highest package it uses");
    }

    /** 0 for a package that uses none, else 1 + the highest height among those it uses (the graph has no cycle). */
    private static int height(String p, Map<String, Set<String>> g, Map<String, Integer> memo) {
        Integer h = memo.get(p);
        if (h != null) return h;
        int best = 0;
        for (String q : g.getOrDefault(p, Set.of())) best = Math.max(best, 1 + height(q, g, memo));
        memo.put(p, best);
        return best;
    }

    private static String name(String p) { return p.isEmpty() ? "(root)" : p; }
}
