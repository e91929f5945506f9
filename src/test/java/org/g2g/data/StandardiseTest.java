package org.g2g.data;

import org.apache.commons.math3.stat.descriptive.moment.Mean;
import org.apache.commons.math3.stat.descriptive.moment.StandardDeviation;
import org.g2g.UserError;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class StandardiseTest {
    private static final int F = 5;

    /** Features with different scales and offsets; feature 4 is constant (std 0). */
    private static Split randomSplit(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * F];
        for (int s = 0; s < n; s++) {
            for (int k = 0; k < 4; k++) x[s * F + k] = (float) (0.1 * k + (k + 1) * 0.05 * r.nextFloat());
            x[s * F + 4] = 0.25f;
        }
        return new Split(x, new int[n], n, F);
    }

    private static double[] column(Split s, int k) {
        double[] c = new double[s.n()];
        for (int i = 0; i < s.n(); i++) c[i] = s.x()[i * F + k];
        return c;
    }

    private static double[] all(Split s) {
        double[] c = new double[s.x().length];
        for (int i = 0; i < c.length; i++) c[i] = s.x()[i];
        return c;
    }

    private static final StandardDeviation POP_STD = new StandardDeviation(false);

    @Test void perFeatureUsesTrainingStatisticsForBoth() {
        Split train = randomSplit(500, 1), test = randomSplit(200, 2);
        double[][] trainCols = new double[F][], testCols = new double[F][];
        for (int k = 0; k < F; k++) { trainCols[k] = column(train, k); testCols[k] = column(test, k); }
        Standardise.PER_FEATURE.apply(new Dataset("t", F, 1, train, test));
        for (int k = 0; k < 4; k++) {
            double[] c = column(train, k);
            assertEquals(0, new Mean().evaluate(c), 1e-5, "train mean of feature " + k);
            assertEquals(1, POP_STD.evaluate(c), 1e-4, "train std of feature " + k);
            double m = new Mean().evaluate(trainCols[k]), sd = POP_STD.evaluate(trainCols[k]);
            for (int i = 0; i < test.n(); i++) {
                assertEquals((testCols[k][i] - m) / sd, test.x()[i * F + k], 1e-4, "test sample " + i + " feature " + k);
            }
        }
        // the constant feature is centred, not divided by zero
        for (float v : train.x()) assertTrue(Float.isFinite(v));
        for (float v : test.x()) assertTrue(Float.isFinite(v));
        for (double v : column(train, 4)) assertEquals(0, v, 1e-7);
    }

    @Test void globalUsesOneMeanAndStd() {
        Split train = randomSplit(400, 3), test = randomSplit(100, 4);
        double[] before = all(train), testBefore = all(test);
        double m = new Mean().evaluate(before), sd = POP_STD.evaluate(before);
        Standardise.GLOBAL.apply(new Dataset("t", F, 1, train, test));
        assertEquals(0, new Mean().evaluate(all(train)), 1e-5);
        assertEquals(1, POP_STD.evaluate(all(train)), 1e-4);
        for (int i = 0; i < testBefore.length; i++) assertEquals((testBefore[i] - m) / sd, test.x()[i], 1e-4);
        // one shared scale: per-feature spreads keep their ratios (feature 3 is 4x wider than feature 0)
        double r = POP_STD.evaluate(column(train, 3)) / POP_STD.evaluate(column(train, 0));
        assertTrue(r > 2.5, "ratio " + r);
    }

    @Test void noneLeavesDataAlone() {
        Split train = randomSplit(10, 5);
        float[] copy = train.x().clone();
        Standardise.NONE.apply(new Dataset("t", F, 1, train, randomSplit(3, 6)));
        assertArrayEquals(copy, train.x());
    }

    @Test void parse() {
        assertEquals(Standardise.NONE, Standardise.parse(null));
        assertEquals(Standardise.NONE, Standardise.parse("none"));
        assertEquals(Standardise.GLOBAL, Standardise.parse("Global"));
        assertEquals(Standardise.PER_FEATURE, Standardise.parse("per-feature"));
        assertEquals(Standardise.PER_FEATURE, Standardise.parse("per_feature"));
        assertEquals("per-feature", Standardise.PER_FEATURE.label());
        UserError e = assertThrows(UserError.class, () -> Standardise.parse("zscore"));
        assertTrue(e.getMessage().contains("--standardize zscore") && e.getMessage().contains("per-feature"), e.getMessage());
    }
}
