package org.g2g.data;

import org.g2g.UserError;

import java.nio.file.Path;

/** Child process of {@link PermissionDeniedTest}: loads fashion-mnist from a directory, prints the error line. */
public final class PermissionProbe {
    public static void main(String[] args) {
        try {
            DataLocator.load("fashion-mnist", Path.of(args[0]), "none", null);
            System.out.println("loaded");
        } catch (UserError e) {
            System.out.println("error: " + e.getMessage());
        }
    }
}
