package org.g2g.train;

/** Learning rate at optimizer step t of T: constant, or cosine decay to 0 over the run. */
public record LrSchedule(String kind, double base, long totalSteps) {
    public double at(long t) {
        if (kind.equals("constant") || totalSteps <= 0) return base;
        double progress = Math.min(1.0, (double) t / totalSteps);
        return base * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
