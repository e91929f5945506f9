#!/usr/bin/env bash
# What this CPU allows g2g's residual-edge kernels, measured in C without the JVM: the core's FMA
# peak, the edge forward (and weight gradient) of the default G2G layer and of ER layers at the issue-13 densities with
# their inputs where a real layer has them (L2), the same edges with every input folded into L1
# (not a layout a layer can have: the bound with no cache misses), and both cores at once.
# Compare with the dense rate per core on the same machine:
#   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 benchmarks/openblas_shapes.py   (1-thread column)
# and with our JVM kernels in a full step: ./g2g profile --device cpu --encoder none --compare g2g,dense
#
# usage: benchmarks/edge-bound.sh [--cc COMPILER]    (needs a C compiler: gcc or clang)
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cc="${CC:-}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cc) cc="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "edge-bound: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ -z "$cc" ]]; then
  for c in gcc clang cc; do command -v "$c" >/dev/null 2>&1 && cc="$c" && break; done
fi
if [[ -z "$cc" ]] || ! command -v "$cc" >/dev/null 2>&1; then
  echo "edge-bound: no C compiler found (install gcc, or pass --cc COMPILER)" >&2
  exit 2
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bin="$work/edge-bound"
if ! "$cc" -O3 -march=native -o "$bin" "$here/edge-bound.c" 2>"$work/cc.log"; then
  echo "edge-bound: $cc could not build benchmarks/edge-bound.c: $(head -1 "$work/cc.log")" >&2
  exit 2
fi
cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
echo "machine: ${cpu:-unknown CPU}, $(nproc) cores; compiler: $("$cc" --version | head -1); flags -O3 -march=native"
echo "one core at a time:"
"$bin" peak
"$bin" edges g2g 0.15
"$bin" edges g2g 0.15 fold
"$bin" grads g2g 0.15
for d in 0.10 0.05 0.02 0.01; do "$bin" edges er "$d"; done
for d in 0.10 0.05; do "$bin" grads er "$d"; done
if [[ "$(nproc)" -ge 2 ]]; then
  echo "two copies at once (one per core; each copy's own figure):"
  "$bin" peak > "$work/p1" & "$bin" peak > "$work/p2"; wait
  sed 's/^/  copy 1: /' "$work/p1"; sed 's/^/  copy 2: /' "$work/p2"
  "$bin" edges g2g 0.15 > "$work/e1" & "$bin" edges g2g 0.15 > "$work/e2"; wait
  sed 's/^/  copy 1: /' "$work/e1"; sed 's/^/  copy 2: /' "$work/e2"
fi
