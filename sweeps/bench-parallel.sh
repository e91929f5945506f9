#!/usr/bin/env bash
# Does --parallel K raise sweep throughput on this machine? Runs the same small sweep (4 runs on
# Fashion-MNIST, 8000 training images, hidden 128, 2 epochs, CPU) with K = 1 and K = 2 (or the Ks
# given), alternating, REPEAT times each, and prints wall time and runs per hour of each.
#   sweeps/bench-parallel.sh            # K = 1 2, REPEAT=2
#   REPEAT=3 sweeps/bench-parallel.sh 1 2 4
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KS=("${@:-1 2}"); [ $# -eq 0 ] && KS=(1 2)
REPEAT=${REPEAT:-2}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/spec.yaml" <<'YAML'
name: parallel-bench
base: {dataset: fashion-mnist, device: cpu, hidden: 128, layers: 2, limit-train: 8000, limit-test: 1000, epochs: 2, update-every: 50}
grid: {seed: [1, 2]}
variants:
  - {label: dense, model: dense}
  - {label: g2g, model: g2g}
YAML
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$REPEAT"); do
  for k in "${KS[@]}"; do
    rm -rf "$WORK/out"
    t0=$(date +%s.%N)
    "$HERE/g2g" sweep --spec "$WORK/spec.yaml" --out "$WORK/out" --parallel "$k" > "$WORK/log" 2>&1 \
      || { cat "$WORK/log"; exit 1; }
    t1=$(date +%s.%N)
    awk -v k="$k" -v r="$r" -v a="$t0" -v b="$t1" 'BEGIN { w = b - a; printf "K=%d (repeat %d): 4 runs in %.1f s wall, %.0f runs/hour\n", k, r, w, 4 * 3600 / w }'
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
