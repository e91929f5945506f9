package org.g2g.config;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * An option value from a fixed set, spelled in config files and on the command line as
 * {@link #spelling()}. Options are resolved into these once, when a {@link RunConfig} is
 * built, so no code below the config compares option strings.
 */
public interface Choice {
    /** The value as written in config.json and on the command line. */
    default String spelling() { return ((Enum<?>) this).name().toLowerCase(Locale.ROOT).replace('_', '-'); }

    static <E extends Enum<E> & Choice> List<String> spellings(Class<E> type) {
        return Arrays.stream(type.getEnumConstants()).map(Choice::spelling).toList();
    }

    /** The constant spelled s; an IllegalArgumentException when none is (the config checked it before). */
    static <E extends Enum<E> & Choice> E parse(Class<E> type, String s) {
        for (E e : type.getEnumConstants()) if (e.spelling().equals(s)) return e;
        throw new IllegalArgumentException("'" + s + "' is not one of " + spellings(type));
    }
}
