package org.g2g.dst;

import org.g2g.backend.Correlation;
import org.g2g.config.HebbianCorrelation;
import org.g2g.config.PruneSchedule;
import org.g2g.config.RunConfig;

/**
 * The DST options of a run, decided once: which rules, how often, how much, and whether
 * Hebbian scores are needed at all. The trainer and the profiler both read them from here.
 *
 * @param prune the prune rule, or null when DST is off (--prune none)
 */
public record DstSettings(PruneRule prune, RegrowRule regrow, int updateEvery, double fraction,
                          boolean cosineSchedule, Correlation correlation, double hebbianEma, long seed) {

    public static DstSettings of(RunConfig c) {
        return new DstSettings(PruneRule.of(c.pruneCriterion()), RegrowRule.of(c.regrowCriterion()), c.updateEvery(),
                c.pruneFraction(), c.pruneScheduleKind() == PruneSchedule.COSINE,
                c.hebbianCorrelation() == HebbianCorrelation.PEARSON ? Correlation.PEARSON : Correlation.COSINE,
                c.hebbianEma(), c.seed());
    }

    /** Whether DST rewires anything (given a model with sparse layers). */
    public boolean on() { return prune != null; }

    /** Whether the sparse layers keep Hebbian co-activation scores (for pruning or regrowth). */
    public boolean needsHebbian() { return on() && (prune.needsScores() || regrow == RegrowRule.HEBBIAN); }

    /** DST off, all else as given (the profiler's baseline step). */
    public DstSettings off() {
        return new DstSettings(null, regrow, updateEvery, fraction, cosineSchedule, correlation, hebbianEma, seed);
    }
}
