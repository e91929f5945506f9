package org.g2g.data;

import org.g2g.UserError;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The one entry point for getting a dataset: finds its files, reads and checks them,
 * optionally standardises, and says on the log where the data came from.
 *
 * <p>With an explicit directory (--data) only that directory is used (a few layouts below
 * it are accepted, see {@link Source#find}). Without one, the search order is
 * $G2G_DATA/&lt;name&gt;, ./data/&lt;name&gt;, and for fashion-mnist the Debian package
 * directory; as a last resort fashion-mnist is installed with apt-get when that can work
 * unattended (see {@link AptInstaller}).
 */
public final class DataLocator {
    public static final Path DEBIAN_FASHION_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    public static final String DEBIAN_PACKAGE = "dataset-fashion-mnist";
    public static final List<String> NAMES = List.of("fashion-mnist", "mnist", "cifar10", "cifar100");

    private final Function<String, String> env;
    private final Path workDir;
    private final Path debianDir;
    private final Installer installer;

    DataLocator(Function<String, String> env, Path workDir, Path debianDir, Installer installer) {
        this.env = env;
        this.workDir = workDir;
        this.debianDir = debianDir;
        this.installer = installer;
    }

    /**
     * Loads dataset name ("fashion-mnist", "mnist", "cifar10", "cifar100") from dataDir, or
     * searches for it when dataDir is null. standardise is none|global|per-feature (null =
     * none). log gets one line on where the data came from (and any install); may be null.
     * Every user-fixable problem is a {@link UserError}.
     */
    public static Dataset load(String name, Path dataDir, String standardise, PrintStream log) {
        return new DataLocator(System::getenv, Path.of("").toAbsolutePath(), DEBIAN_FASHION_DIR,
                new AptInstaller(System::getenv)).find(name, dataDir, standardise, log);
    }

    Dataset find(String name, Path dataDir, String standardise, PrintStream log) {
        Source src = Source.of(name);
        Standardise st = Standardise.parse(standardise); // option errors before any I/O
        PrintStream out = log != null ? log : new PrintStream(OutputStream.nullOutputStream());
        Path dir = dataDir != null ? inExplicitDir(src, dataDir) : search(src, out);
        long t0 = System.nanoTime();
        Dataset d = src.read(dir);
        st.apply(d);
        out.printf(Locale.ROOT, "data: %s from %s: %d train, %d test, %d features, %d classes%s (%.2f s)%n",
                src.name, dir, d.train().n(), d.test().n(), d.features(), d.classes(),
                st == Standardise.NONE ? "" : ", standardise " + st.label(), (System.nanoTime() - t0) / 1e9);
        return d;
    }

    private static Path inExplicitDir(Source src, Path dataDir) {
        if (!Files.isDirectory(dataDir)) {
            throw new UserError("--data " + dataDir + ": " + (Files.exists(dataDir) ? "not a directory" : "not found")
                    + "; " + src.howToGet());
        }
        Path dir = src.find(dataDir);
        if (dir == null) {
            String denied = deniedBelow(src, dataDir);
            if (denied != null) throw new UserError("--data " + dataDir + ": permission denied on " + denied + "; " + src.howToGet());
            throw new UserError("--data " + dataDir + ": no " + src.name + " files there (missing "
                    + String.join(", ", src.missing(dataDir)) + "); " + src.howToGet());
        }
        return dir;
    }

    private Path search(Source src, PrintStream log) {
        Path found = firstComplete(src);
        if (found != null) return found;
        String installNote = "";
        if (src == Source.FASHION_MNIST) {
            String why = installer.unavailableReason();
            if (why == null) {
                log.println("data: fashion-mnist not found in " + describe(candidates(src)) + "; installing " + DEBIAN_PACKAGE);
                boolean ok = installer.install(DEBIAN_PACKAGE, log);
                found = firstComplete(src);
                if (found != null) return found;
                installNote = ok ? "; apt-get install " + DEBIAN_PACKAGE + " succeeded but the files are not in " + debianDir
                                 : "; automatic apt-get install " + DEBIAN_PACKAGE + " failed (see the log above)";
            } else {
                installNote = "; automatic install skipped: " + why;
            }
        }
        StringBuilder partial = new StringBuilder();
        for (Path c : candidates(src)) {
            String denied = deniedBelow(src, c);
            if (denied != null) partial.append("; permission denied on ").append(denied);
            if (src.anyPresent(c)) {
                partial.append("; ").append(c).append(" has only some files (missing ")
                        .append(String.join(", ", src.missing(c))).append(")");
            }
        }
        throw new UserError("dataset " + src.name + ": not found in " + describe(candidates(src))
                + partial + installNote + "; " + src.howToGet());
    }

    /**
     * The first directory (of dir and the layouts below it) or data file this process may not
     * read, or null: a directory we cannot list looks empty, and "files missing" would send the
     * user looking for files that are there.
     */
    static String deniedBelow(Source src, Path dir) {
        if (!Files.exists(dir)) return null;
        if (!Files.isReadable(dir) || !Files.isExecutable(dir)) return dir.toString();
        for (Path d : src.layouts(dir)) {
            if (!Files.isDirectory(d)) continue;
            if (!Files.isReadable(d) || !Files.isExecutable(d)) return d.toString();
            try (var files = Files.list(d)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    if (Files.isRegularFile(f) && !Files.isReadable(f)) return f.toString();
                }
            } catch (java.io.IOException | java.io.UncheckedIOException e) {
                return d.toString();
            }
        }
        return null;
    }

    private Path firstComplete(Source src) {
        for (Path c : candidates(src)) {
            Path dir = Files.isDirectory(c) ? src.find(c) : null;
            if (dir != null) return dir;
        }
        return null;
    }

    /** Search order when no --data is given. */
    List<Path> candidates(Source src) {
        List<Path> dirs = new ArrayList<>();
        String root = env.apply("G2G_DATA");
        if (root != null && !root.isBlank()) dirs.add(Path.of(root).resolve(src.name));
        dirs.add(workDir.resolve("data").resolve(src.name));
        if (src == Source.FASHION_MNIST) dirs.add(debianDir);
        return dirs;
    }

    private String describe(List<Path> dirs) {
        List<String> s = new ArrayList<>();
        for (Path d : dirs) s.add(d.toString());
        String g = env.apply("G2G_DATA");
        return String.join(", ", s) + (g == null || g.isBlank() ? " ($G2G_DATA unset)" : "");
    }

    /** What each dataset looks like on disk and how a user gets it. */
    enum Source {
        FASHION_MNIST("fashion-mnist", null, "FashionMNIST/raw"),
        MNIST("mnist", null, "MNIST/raw"),
        CIFAR10("cifar10", CifarReader.Variant.CIFAR10, null),
        CIFAR100("cifar100", CifarReader.Variant.CIFAR100, null);

        final String name;
        final CifarReader.Variant cifar;
        /** Where torchvision's download=True puts the raw IDX files below its root. */
        final String torchvisionDir;

        Source(String name, CifarReader.Variant cifar, String torchvisionDir) {
            this.name = name; this.cifar = cifar; this.torchvisionDir = torchvisionDir;
        }

        static Source of(String name) {
            String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
            if (key.equals("cifar-10")) key = "cifar10";
            if (key.equals("cifar-100")) key = "cifar100";
            for (Source s : values()) if (s.name.equals(key)) return s;
            throw new UserError("--dataset " + name + ": unknown dataset (choose " + String.join(", ", NAMES) + ")");
        }

        /** Directories that may hold the files: dir, dir/&lt;name&gt;, the layout of the official tarball or torchvision. */
        List<Path> layouts(Path dir) {
            List<Path> l = new ArrayList<>(List.of(dir, dir.resolve(name)));
            if (torchvisionDir != null) l.add(dir.resolve(torchvisionDir));
            if (cifar != null) l.addAll(List.of(dir.resolve(cifar.subdir), dir.resolve(name).resolve(cifar.subdir)));
            return l;
        }

        /** The directory holding a complete set of files at or below dir, or null. */
        Path find(Path dir) {
            for (Path d : layouts(dir)) {
                boolean complete = cifar != null ? cifar.missingIn(d).isEmpty() : IdxFiles.findAll(d) != null;
                if (complete) return d;
            }
            return null;
        }

        /**
         * Files missing for the most nearly complete layout at or below dir, named relative
         * to dir, so "cifar-10-batches-bin/test_batch.bin" points at the real gap.
         */
        List<String> missing(Path dir) {
            List<String> best = null;
            for (Path d : layouts(dir)) {
                if (!Files.isDirectory(d)) continue;
                List<String> m = new ArrayList<>();
                for (String f : missingHere(d)) m.add(dir.relativize(d.resolve(f)).toString());
                if (best == null || m.size() < best.size()) best = m;
            }
            return best != null ? best : missingHere(dir);
        }

        private List<String> missingHere(Path d) {
            return cifar != null ? cifar.missingIn(d) : IdxFiles.missing(d);
        }

        boolean anyPresent(Path dir) {
            return Files.isDirectory(dir) && missing(dir).size() < (cifar != null ? cifar.allFiles().size() : 4);
        }

        Dataset read(Path dir) {
            if (cifar != null) return CifarReader.read(cifar, dir);
            List<Path> f = IdxFiles.findAll(dir);
            Split train = IdxReader.readSplit(f.get(0), f.get(1), 10);
            Split test = IdxReader.readSplit(f.get(2), f.get(3), 10);
            if (test.features() != train.features()) {
                throw new UserError("data files " + f.get(0) + " and " + f.get(2) + ": image sizes differ: "
                        + train.features() + " vs " + test.features() + " pixels");
            }
            return new Dataset(name, train.features(), 10, train, test);
        }

        String howToGet() {
            switch (this) {
                case FASHION_MNIST:
                    return "get it with `apt-get install " + DEBIAN_PACKAGE + "` (Debian/Ubuntu, installs to "
                            + DEBIAN_FASHION_DIR + "), or download " + IdxFiles.officialNames()
                            + " from https://github.com/zalandoresearch/fashion-mnist (data/fashion) into DIR and pass --data DIR";
                case MNIST:
                    return "download " + IdxFiles.officialNames()
                            + " from https://ossci-datasets.s3.amazonaws.com/mnist/ (mirror of http://yann.lecun.com/exdb/mnist/)"
                            + " into DIR and pass --data DIR (or use ./data/mnist or $G2G_DATA/mnist)";
                default:
                    String tar = this == CIFAR10 ? "cifar-10-binary.tar.gz" : "cifar-100-binary.tar.gz";
                    return "download https://www.cs.toronto.edu/~kriz/" + tar + ", unpack it with `tar xzf " + tar
                            + " -C DIR` (giving DIR/" + cifar.subdir + "/" + cifar.testFiles.get(0)
                            + ") and pass --data DIR (or use ./data/" + name + " or $G2G_DATA/" + name + ")";
            }
        }
    }
}
