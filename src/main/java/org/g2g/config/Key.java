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
            if (type == Integer.class || type == Long.class) return exactInteger(new java.math.BigDecimal(s.replace("_", "")));
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
        if (v == null) {
            // null means "unset" only for options that have no default (data, density)
            if (defaultValue == null) return null;
            throw new ConfigError(name, "null is not a valid " + typeName() + " (leave the key out to use the default, "
                    + defaultValue + ")");
        }
        if (type == String.class) {
            if (v instanceof String || v instanceof Number) return v.toString();
            throw new ConfigError(name, "expected a string, got " + v);
        }
        if (v instanceof String s) return parse(s);
        if ((type == Integer.class || type == Long.class) && v instanceof Number n) return exactInteger(n);
        if (type == Double.class && v instanceof Number n) return n.doubleValue();
        if (type == Boolean.class && v instanceof Boolean b) return b;
        throw new ConfigError(name, "expected " + typeName() + ", got " + v);
    }

    /**
     * A JSON/YAML or command-line number as this key's integer type, exactly: never narrowed
     * (4294967297 is not 1) nor rounded (2.5 is not 2).
     */
    private Object exactInteger(Number n) {
        java.math.BigDecimal d;
        try {
            d = n instanceof java.math.BigDecimal b ? b : new java.math.BigDecimal(n.toString());
        } catch (NumberFormatException e) {
            throw new ConfigError(name, "'" + n + "' is not a valid integer");
        }
        java.math.BigInteger i;
        try {
            i = d.toBigIntegerExact();
        } catch (ArithmeticException e) {
            throw new ConfigError(name, n + " is not a whole number");
        }
        long lo = type == Integer.class ? Integer.MIN_VALUE : Long.MIN_VALUE, hi = type == Integer.class ? Integer.MAX_VALUE : Long.MAX_VALUE;
        if (i.compareTo(java.math.BigInteger.valueOf(lo)) < 0 || i.compareTo(java.math.BigInteger.valueOf(hi)) > 0) {
            throw new ConfigError(name, n + " is out of range (" + (type == Integer.class ? "at most 2147483647" : "a 64-bit integer") + ")");
        }
        return type == Integer.class ? (Object) i.intValue() : (Object) i.longValue();
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
