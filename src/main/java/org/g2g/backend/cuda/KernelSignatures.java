package org.g2g.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The C parameter types of every kernel, so {@link Kernels#launch} can refuse a Java argument
 * whose size or kind differs from the kernel's. Why: JCuda copies as many bytes as the kernel's
 * parameter takes, so an int passed for a {@code long long} reads 4 bytes past the Java array
 * and works or not by luck (the emulated device cannot see it either).
 *
 * <p>The build runs {@link #main} over cuda-kernels/*.cu (process-classes phase) and writes
 * {@value #RESOURCE}, one line per kernel: {@code name<TAB>int,ptr,long,float,...}. The parser
 * knows exactly what our kernels use: comments, object-like {@code #define}s (GEMM_PARAMS) and
 * {@code extern "C" __global__ void [__launch_bounds__(..)] name(params)}; any parameter type
 * it cannot classify fails the build, so a new type cannot slip past the check.
 */
public final class KernelSignatures {
    static final String RESOURCE = "/org/g2g/backend/cuda/kernel-signatures.txt";

    /** The four kinds of kernel parameter we pass from Java. */
    public enum Type {
        INT("int"), LONG("long long"), FLOAT("float"), POINTER("pointer");

        final String c;

        Type(String c) { this.c = c; }

        static Type of(String token) {
            for (Type t : values()) if (t.name().toLowerCase(java.util.Locale.ROOT).equals(token)) return t;
            throw new IllegalArgumentException("unknown parameter type '" + token + "'");
        }
    }

    private static final Pattern DEFINE = Pattern.compile("(?m)^[ \\t]*#[ \\t]*define[ \\t]+(\\w+)(?![\\w(])[ \\t]*(.*)$");
    private static final Pattern KERNEL = Pattern.compile(
            "extern\\s+\"C\"\\s+__global__\\s+void\\s+(?:__launch_bounds__\\s*\\([^)]*\\)\\s*)?(\\w+)\\s*\\(");

    private final Map<String, List<Type>> table;

    private KernelSignatures(Map<String, List<Type>> table) { this.table = table; }

    /** The table the build generated, from the classpath; null when it is absent. */
    static KernelSignatures load() {
        try (InputStream in = KernelSignatures.class.getResourceAsStream(RESOURCE)) {
            return in == null ? null : read(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return null;
        }
    }

    static KernelSignatures read(String text) {
        Map<String, List<Type>> t = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] f = line.split("\t", -1);
            List<Type> ps = new ArrayList<>();
            if (f.length > 1 && !f[1].isEmpty()) for (String p : f[1].split(",")) ps.add(Type.of(p.trim()));
            t.put(f[0].trim(), List.copyOf(ps));
        }
        return new KernelSignatures(Collections.unmodifiableMap(t));
    }

    /** Parses kernel sources (file name -> text); fails on any parameter type it cannot classify. */
    static KernelSignatures parse(Map<String, String> sources) {
        Map<String, String> macros = new LinkedHashMap<>();
        List<String> texts = new ArrayList<>();
        for (Map.Entry<String, String> e : sources.entrySet()) {
            String text = stripComments(e.getValue()).replaceAll("\\\\\\r?\\n", " ");
            Matcher d = DEFINE.matcher(text);
            while (d.find()) macros.put(d.group(1), d.group(2).trim());
            texts.add(text);
        }
        Map<String, List<Type>> table = new TreeMap<>();
        for (String text : texts) {
            Matcher k = KERNEL.matcher(text);
            while (k.find()) {
                String name = k.group(1);
                int close = text.indexOf(')', k.end());
                if (close < 0) throw new IllegalArgumentException("kernel " + name + ": no closing parenthesis");
                String params = expand(text.substring(k.end(), close), macros).trim();
                List<Type> types = new ArrayList<>();
                if (!params.isEmpty() && !params.equals("void")) {
                    for (String p : params.split(",")) types.add(classify(name, p));
                }
                if (table.put(name, List.copyOf(types)) != null) throw new IllegalArgumentException("kernel " + name + " defined twice");
            }
        }
        if (table.isEmpty()) throw new IllegalArgumentException("no extern \"C\" __global__ kernels found");
        return new KernelSignatures(Collections.unmodifiableMap(new LinkedHashMap<>(table)));
    }

    private static String stripComments(String s) {
        return s.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\\n]*", "");
    }

    private static String expand(String params, Map<String, String> macros) {
        String out = params;
        for (int pass = 0; pass < 8; pass++) {
            String before = out;
            for (Map.Entry<String, String> m : macros.entrySet()) {
                out = out.replaceAll("\\b" + m.getKey() + "\\b", Matcher.quoteReplacement(m.getValue()));
            }
            if (out.equals(before)) return out;
        }
        throw new IllegalArgumentException("macro expansion does not end: " + params);
    }

    /** One C parameter declaration ("const float* __restrict__ a") to its kind. */
    static Type classify(String kernel, String decl) {
        String d = decl.trim();
        if (d.contains("*")) return Type.POINTER;
        // drop the parameter name, then the qualifiers that do not change size or kind
        String[] words = d.split("\\s+");
        List<String> type = new ArrayList<>();
        for (int i = 0; i < words.length - 1; i++) {
            String w = words[i];
            if (!w.equals("const") && !w.equals("__restrict__") && !w.equals("volatile")) type.add(w);
        }
        String t = String.join(" ", type);
        switch (t) {
            case "int", "unsigned", "unsigned int", "signed", "signed int" -> { return Type.INT; }
            case "long long", "long long int", "unsigned long long", "unsigned long long int", "size_t",
                 "int64_t", "uint64_t" -> { return Type.LONG; }
            case "float" -> { return Type.FLOAT; }
            default -> throw new IllegalArgumentException("kernel " + kernel + ": parameter '" + d
                    + "' has a type Kernels cannot pass (int, long long, float or a pointer)");
        }
    }

    List<Type> of(String kernel) { return table.get(kernel); }

    Map<String, List<Type>> table() { return table; }

    /**
     * Throws IllegalArgumentException unless {@code args} match {@code kernel}'s C parameters in
     * number and kind: Integer or Boolean for int, Long for long long, Float for float, a device
     * buffer (or null) for a pointer. Exact: no widening, as JCuda would copy the wrong byte count.
     */
    void check(String kernel, Object[] args, java.util.function.Function<Object, Type> kindOf) {
        List<Type> ps = table.get(kernel);
        if (ps == null) throw new IllegalArgumentException("kernel " + kernel + ": not in the signature table (not in cuda-kernels/)");
        if (ps.size() != args.length) {
            throw new IllegalArgumentException("kernel " + kernel + ": " + args.length + " arguments for " + ps.size() + " parameters");
        }
        for (int k = 0; k < args.length; k++) {
            Type want = ps.get(k), got = kindOf.apply(args[k]);
            if (got != want) {
                throw new IllegalArgumentException("kernel " + kernel + ": argument " + k + " is "
                        + (got == null ? args[k].getClass().getSimpleName() : got.c) + " but the kernel takes " + want.c);
            }
        }
    }

    String format() {
        StringBuilder b = new StringBuilder("# generated by KernelSignatures from cuda-kernels/*.cu at build time; do not edit\n");
        for (Map.Entry<String, List<Type>> e : table.entrySet()) {
            b.append(e.getKey()).append('\t');
            for (int i = 0; i < e.getValue().size(); i++) {
                if (i > 0) b.append(',');
                b.append(e.getValue().get(i).name().toLowerCase(java.util.Locale.ROOT));
            }
            b.append('\n');
        }
        return b.toString();
    }

    /** The .cu and .cuh files of a directory, by file name. */
    static Map<String, String> sources(Path dir) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s.sorted()::iterator) {
                String n = p.getFileName().toString();
                if (n.endsWith(".cu") || n.endsWith(".cuh")) m.put(n, Files.readString(p));
            }
        }
        return m;
    }

    /** Build step: {@code KernelSignatures <cuda-kernels dir> <output file>}. */
    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: KernelSignatures <cuda-kernels dir> <output file>");
            System.exit(2);
        }
        KernelSignatures s = parse(sources(Paths.get(args[0])));
        Path out = Paths.get(args[1]);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, s.format());
        System.out.println("kernel signatures: " + s.table.size() + " kernels -> " + out);
    }
}
