package org.g2g.config;

import org.g2g.UserError;

/** A bad option value or key; the message names the option. */
public final class ConfigError extends UserError {
    public ConfigError(String key, String reason) {
        super("option --" + key + ": " + reason);
    }

    public ConfigError(String message) { super(message); }
}
