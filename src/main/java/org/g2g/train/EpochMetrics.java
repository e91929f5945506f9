package org.g2g.train;

import java.util.Locale;

/** One row of metrics.csv. Accuracies are fractions in [0,1]; NaN where not measured. */
public record EpochMetrics(int epoch, double trainLoss, double trainAcc, double valAcc, double testLoss,
                           double testAcc, double lr, double density, double samplesPerS, double seconds) {

    public static final String CSV_HEADER =
            "epoch,train_loss,train_acc,val_acc,test_loss,test_acc,lr,density,samples_per_s,seconds";

    public String csv() {
        return String.format(Locale.ROOT, "%d,%.6f,%.6f,%s,%.6f,%.6f,%.6g,%.6f,%.1f,%.3f", epoch, trainLoss, trainAcc,
                Double.isNaN(valAcc) ? "" : String.format(Locale.ROOT, "%.6f", valAcc), testLoss, testAcc, lr,
                density, samplesPerS, seconds);
    }

    /**
     * "test_loss is NaN" for the first metric of the model that is not a finite number, or null;
     * val_acc counts only when a validation split was measured. (Timings are not the model's.)
     */
    public String firstNonFinite(boolean measuredVal) {
        String[] names = CSV_HEADER.split(",");
        double[] v = {epoch, trainLoss, trainAcc, measuredVal ? valAcc : 0, testLoss, testAcc, lr, density};
        for (int k = 0; k < v.length; k++) if (!Double.isFinite(v[k])) return names[k] + " is " + v[k];
        return null;
    }

    /**
     * A row read back from a file: ten fields, numbers where numbers belong, finite except an
     * empty val_acc; a UserError starting with where otherwise.
     */
    public static EpochMetrics parseChecked(String line, String where) {
        EpochMetrics m;
        try {
            if (line.split(",", -1).length != 10) throw new NumberFormatException();
            m = parse(line);
        } catch (RuntimeException e) {
            throw new org.g2g.UserError(where + " is not a metrics.csv row: '" + (line.length() > 60 ? line.substring(0, 60) + "..." : line) + "'");
        }
        double[] v = {m.trainLoss, m.trainAcc, m.testLoss, m.testAcc, m.lr, m.density, m.samplesPerS, m.seconds};
        for (double x : v) if (!Double.isFinite(x)) throw new org.g2g.UserError(where + " holds a value that is not a number: '" + line + "'");
        if (m.epoch < 1) throw new org.g2g.UserError(where + " has epoch " + m.epoch);
        return m;
    }

    public static EpochMetrics parse(String line) {
        String[] f = line.split(",", -1);
        return new EpochMetrics(Integer.parseInt(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]),
                f[3].isEmpty() ? Double.NaN : Double.parseDouble(f[3]), Double.parseDouble(f[4]),
                Double.parseDouble(f[5]), Double.parseDouble(f[6]), Double.parseDouble(f[7]),
                Double.parseDouble(f[8]), Double.parseDouble(f[9]));
    }
}
