package org.g2g.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** `g2g generate-completion` prints a bash/zsh script that knows every subcommand and the generated run options. */
class CompletionTest {
    @Test
    void completionScriptNamesSubcommandsAndRunOptions() {
        SelfDescribingModelTest.Out o = SelfDescribingModelTest.main("generate-completion");
        assertEquals(0, o.code(), o.err());
        for (String s : new String[]{"train", "eval", "predict", "export", "sweep", "--p-inter", "--tensorboard", "--json"}) {
            assertTrue(o.out().contains(s), "completion script mentions " + s);
        }
        assertTrue(o.out().startsWith("#!/usr/bin/env bash"), o.out().substring(0, 40));
    }
}
