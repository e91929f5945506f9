package org.g2g.train;

import org.g2g.UserError;

/**
 * A run stopped because a loss or metric stopped being a number. Exit code 3, so scripts and
 * sweeps can tell "try a lower --lr" from bad input (2) and bugs (1). The last good checkpoint
 * is kept: nothing is written after the check fails.
 */
public final class DivergedError extends UserError {
    public static final int EXIT_CODE = 3;

    public DivergedError(String message) { super(message); }

    @Override
    public int exitCode() { return EXIT_CODE; }
}
