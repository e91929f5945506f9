package org.g2g.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the four IDX files of an MNIST-style dataset in a directory. Besides the official
 * names (train-images-idx3-ubyte.gz, ...) it accepts them unzipped, with '.' before "idx"
 * (as on Kaggle: train-images.idx3-ubyte) and "test-" for "t10k-".
 */
final class IdxFiles {
    private IdxFiles() {}

    enum Role {
        TRAIN_IMAGES(List.of("train"), "images", "idx3-ubyte"),
        TRAIN_LABELS(List.of("train"), "labels", "idx1-ubyte"),
        TEST_IMAGES(List.of("t10k", "test"), "images", "idx3-ubyte"),
        TEST_LABELS(List.of("t10k", "test"), "labels", "idx1-ubyte");

        final List<String> prefixes;
        final String kind, type;

        Role(List<String> prefixes, String kind, String type) {
            this.prefixes = prefixes; this.kind = kind; this.type = type;
        }

        /** The official (Zalando / LeCun) name. */
        String officialName() { return prefixes.get(0) + "-" + kind + "-" + type + ".gz"; }

        List<String> candidates() {
            List<String> names = new ArrayList<>();
            for (String p : prefixes)
                for (String sep : List.of("-", "."))
                    for (String gz : List.of(".gz", ""))
                        names.add(p + "-" + kind + sep + type + gz);
            return names;
        }
    }

    static Path find(Path dir, Role r) {
        for (String name : r.candidates()) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    /** The four files in Role order, or null unless all are present. */
    static List<Path> findAll(Path dir) {
        List<Path> files = new ArrayList<>();
        for (Role r : Role.values()) {
            Path p = find(dir, r);
            if (p == null) return null;
            files.add(p);
        }
        return files;
    }

    static List<String> missing(Path dir) {
        List<String> names = new ArrayList<>();
        for (Role r : Role.values()) if (find(dir, r) == null) names.add(r.officialName());
        return names;
    }

    static String officialNames() {
        List<String> names = new ArrayList<>();
        for (Role r : Role.values()) names.add(r.officialName());
        return String.join(", ", names);
    }
}
