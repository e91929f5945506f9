package org.g2g.config;

/**
 * --device: auto (CUDA when usable, else the CPU), cpu, or a CUDA device by ordinal
 * ("cuda" is cuda:0). Parsed once here; the backend factory only switches on it.
 */
public record DeviceSpec(Kind kind, int ordinal) {
    public enum Kind { AUTO, CPU, CUDA }

    public static DeviceSpec parse(String s) {
        switch (s) {
            case "auto": return new DeviceSpec(Kind.AUTO, 0);
            case "cpu": return new DeviceSpec(Kind.CPU, 0);
            case "cuda": return new DeviceSpec(Kind.CUDA, 0);
            default:
                if (s.matches("cuda:\\d{1,9}")) return new DeviceSpec(Kind.CUDA, Integer.parseInt(s.substring(5)));
                throw new ConfigError("device", "'" + s + "' is not auto, cpu, cuda or cuda:N");
        }
    }

    /** The spelling of a CUDA device or cpu/auto, as --device takes it. */
    @Override public String toString() {
        return switch (kind) {
            case AUTO -> "auto";
            case CPU -> "cpu";
            case CUDA -> "cuda:" + ordinal;
        };
    }
}
