package org.g2g.config;

import java.util.List;

/**
 * One configurable option: its name (the CLI long option without dashes and the config-file
 * key), type, default and the rule that checks it. The one home of every option's definition.
 */
public record Key(String name, Class<?> type, Object defaultValue, String help, List<String> choices,
                  Double min, Double max, boolean minExclusive, boolean maxExclusive) {

    public static Key of(String name, Class<?> type, Object def, String help) {
        return new Key(name, type, def, help, null, null, null, false, false);
    }

    public static Key choice(String name, String def, String help, String... choices) {
        return new Key(name, String.class, def, help, List.of(choices), null, null, false, false);
    }

    /** A choice among the spellings of an enum's constants, defaulting to def. */
    public static <E extends Enum<E> & Choice> Key choice(String name, E def, String help) {
        return new Key(name, String.class, def.spelling(), help, Choice.spellings(def.getDeclaringClass()), null, null,
                false, false);
    }

    public Key range(double lo, double hi) {
        return new Key(name, type, defaultValue, help, choices, lo, hi, false, false);
    }

    public Key rangeExclusive(double lo, double hi, boolean loEx, boolean hiEx) {
        return new Key(name, type, defaultValue, help, choices, lo, hi, loEx, hiEx);
    }

    /** Parses a string (CLI, --set, YAML scalar) into this key's type. */
    public Object parse(String raw) {
        String s = raw.trim();
        try {
            if (type == Integer.class) return Integer.valueOf(s.replace("_", ""));
            if (type == Long.class) return Long.valueOf(s.replace("_", ""));
            if (type == Double.class) return Double.valueOf(s);
            if (type == Boolean.class) {
                if (s.equalsIgnoreCase("true") || s.equals("1") || s.equalsIgnoreCase("yes")) return true;
                if (s.equalsIgnoreCase("false") || s.equals("0") || s.equalsIgnoreCase("no")) return false;
                throw new NumberFormatException();
            }
            return s;
        } catch (NumberFormatException e) {
            throw new ConfigError(name, "'" + raw + "' is not a valid " + typeName());
        }
    }

    /** Converts a value read from JSON/YAML (Number, Boolean, String) to this key's type. */
    public Object coerce(Object v) {
        if (v == null) return null;
        if (type == String.class) {
            if (v instanceof String || v instanceof Number) return v.toString();
            throw new ConfigError(name, "expected a string, got " + v);
        }
        if (v instanceof String s) return parse(s);
        if (type == Integer.class && v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) return n.intValue();
        if (type == Long.class && v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) return n.longValue();
        if (type == Double.class && v instanceof Number n) return n.doubleValue();
        if (type == Boolean.class && v instanceof Boolean b) return b;
        throw new ConfigError(name, "expected " + typeName() + ", got " + v);
    }

    public String typeName() {
        if (choices != null) return "one of " + String.join("|", choices);
        if (type == Integer.class || type == Long.class) return "integer";
        if (type == Double.class) return "number";
        if (type == Boolean.class) return "boolean";
        return "string";
    }

    /** Checks a parsed value; throws ConfigError naming this key. */
    public void check(Object v) {
        if (v == null) return;
        if (choices != null && !choices.contains(v.toString())) {
            throw new ConfigError(name, "'" + v + "' is not " + typeName());
        }
        if (min != null && v instanceof Number n) {
            double d = n.doubleValue();
            boolean lowBad = minExclusive ? d <= min : d < min;
            boolean highBad = maxExclusive ? d >= max : d > max;
            if (lowBad || highBad || Double.isNaN(d)) {
                if (max >= Keys.INF) {
                    throw new ConfigError(name, v + " must be " + (minExclusive ? "greater than " : "at least ") + fmt(min));
                }
                throw new ConfigError(name, v + " is outside " + (minExclusive ? "(" : "[") + fmt(min) + ", "
                        + fmt(max) + (maxExclusive ? ")" : "]"));
            }
        }
    }

    private static String fmt(double d) {
        if (d == Math.rint(d) && Math.abs(d) < 1e15) return Long.toString((long) d);
        return Double.toString(d);
    }
}
