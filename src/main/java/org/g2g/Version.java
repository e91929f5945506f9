package org.g2g;

import java.nio.file.Files;
import java.nio.file.Path;

/** The program version and, when run from a git checkout, its commit. */
public final class Version {
    private Version() {}

    public static String version() {
        String v = Version.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0-dev" : v;
    }

    /** The checked-out commit of G2G_HOME (set by the launcher), or null when unknown. */
    public static String gitCommit() {
        String home = System.getenv("G2G_HOME");
        if (home == null) return null;
        try {
            Path git = Path.of(home, ".git");
            Path head = git.resolve("HEAD");
            if (!Files.isRegularFile(head)) return null;
            String ref = Files.readString(head).trim();
            if (!ref.startsWith("ref: ")) return ref;
            Path refFile = git.resolve(ref.substring(5));
            if (Files.isRegularFile(refFile)) return Files.readString(refFile).trim();
            Path packed = git.resolve("packed-refs");
            if (Files.isRegularFile(packed)) {
                for (String line : Files.readAllLines(packed)) {
                    if (line.endsWith(" " + ref.substring(5))) return line.substring(0, line.indexOf(' '));
                }
            }
        } catch (Exception e) {
            return null;
        }
        return null;
    }
}
