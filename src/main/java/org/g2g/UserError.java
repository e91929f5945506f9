package org.g2g;

/**
 * A problem the user can fix (bad option, missing or corrupt file, unusable device).
 * The CLI prints its message as one line and exits with code 2, no stack trace
 * unless --debug. The message names the input and the reason.
 */
public class UserError extends RuntimeException {
    public UserError(String message) { super(message); }

    public UserError(String message, Throwable cause) { super(message, cause); }

    /** The process exit code for this error: 2, unless a subclass has a more specific one. */
    public int exitCode() { return 2; }
}
