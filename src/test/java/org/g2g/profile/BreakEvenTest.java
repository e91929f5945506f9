package org.g2g.profile;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class BreakEvenTest {
    @Test void interpolatesInLogDensityBetweenTheTwoPointsAroundTheCrossing() {
        BenchGrid.BreakEven b = BenchGrid.breakEven(new double[]{1.0, 0.5, 0.1, 0.01}, new double[]{1.1, 0.5, 2.0, 5.0});
        // between 0.1 (2x) and 0.5 (0.5x): t = (2 - 1) / (2 - 0.5) = 2/3 of the way in log density
        assertEquals(0.1 * Math.pow(5, 2.0 / 3), b.density(), 1e-12);
        assertEquals("interpolated", b.note());
    }

    @Test void densityOneIsNotASparsePoint() {
        // the dense mask at density 1 is the reference kernel itself: noise there must not move the figure
        BenchGrid.BreakEven b = BenchGrid.breakEven(new double[]{1.0, 0.5, 0.25}, new double[]{1.05, 0.6, 1.5});
        assertEquals(Math.exp(Math.log(0.25) + (0.5 / 0.9) * (Math.log(0.5) - Math.log(0.25))), b.density(), 1e-12);
    }

    @Test void noCrossing() {
        assertNull(BenchGrid.breakEven(new double[]{0.5, 0.1}, new double[]{0.3, 0.9}).density());
        BenchGrid.BreakEven all = BenchGrid.breakEven(new double[]{0.5, 0.1, 1.0}, new double[]{1.2, 3, 1});
        assertEquals(0.5, all.density());
        assertTrue(all.note().startsWith("sparse at least as fast"));
    }

    @Test void percentilesInterpolateBetweenRanks() {
        double[] v = {5, 1, 4, 2, 3};
        assertEquals(3, Timing.median(v));
        assertEquals(1.4, Timing.percentile(v, 10), 1e-12);
        assertEquals(4.6, Timing.percentile(v, 90), 1e-12);
    }
}
