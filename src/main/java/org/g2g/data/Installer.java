package org.g2g.data;

import java.io.PrintStream;

/** Installs a system package holding a dataset; an interface so tests never run apt. */
interface Installer {
    /** Null when an install can be attempted, else a short reason why not (for the error message). */
    String unavailableReason();

    /** Installs pkg, narrating to log; true on success. */
    boolean install(String pkg, PrintStream log);
}
