package org.g2g.train;

import org.g2g.config.LrScheduleKind;

/** Learning rate at optimizer step t of T: constant, or cosine decay to 0 over the run. */
public record LrSchedule(LrScheduleKind kind, double base, long totalSteps) {
    public double at(long t) {
        if (kind == LrScheduleKind.CONSTANT || totalSteps <= 0) return base;
        double progress = Math.min(1.0, (double) t / totalSteps);
        return base * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
