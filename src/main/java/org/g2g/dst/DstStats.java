package org.g2g.dst;

/** What one DST update did to one layer (a row of dst.csv). */
public record DstStats(long step, int layer, int pruned, int regrown, int regrownWerePruned,
                       double intraGroupShare, int deadUnits, double density) {

    public static final String CSV_HEADER = "step,layer,pruned,regrown,regrown_were_pruned,intra_group_share,dead_units,density";

    public String csv() {
        return step + "," + layer + "," + pruned + "," + regrown + "," + regrownWerePruned + ","
                + (Double.isNaN(intraGroupShare) ? "" : String.format(java.util.Locale.ROOT, "%.6f", intraGroupShare))
                + "," + deadUnits + "," + String.format(java.util.Locale.ROOT, "%.6f", density);
    }
}
