#!/usr/bin/env bash
# Runs the GPU benchmarks from an unpacked bundle
# (mvn package -Pbundle -> target/g2g-bundle.tar.gz). Builds nothing.
#
# usage: benchmarks/gpu-run.sh [BUNDLE_DIR] [-- extra CudaBench args]
#   BUNDLE_DIR defaults to ./g2g (the folder the tarball unpacks to) or target/bundle/g2g.
# Writes everything to stdout; also runs benchmarks/pytorch_g2g.py when python3 has torch.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bundle="${1:-}"
if [[ -z "$bundle" || "$bundle" == "--" ]]; then
  for c in ./g2g "$here/../target/bundle/g2g"; do [[ -x "$c/bin/g2g-cuda-bench" ]] && bundle="$c" && break; done
else
  shift
fi
[[ "${1:-}" == "--" ]] && shift
if [[ -z "$bundle" || ! -x "$bundle/bin/g2g-cuda-bench" ]]; then
  echo "no bundle found: unpack target/g2g-bundle.tar.gz and pass its g2g folder" >&2
  exit 2
fi
echo "== host"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
echo "== g2g CudaBench (custom sparse engine)"
"$bundle/bin/g2g-cuda-bench" --engine custom "$@"
echo "== g2g CudaBench (cuSPARSE engine)"
"$bundle/bin/g2g-cuda-bench" --engine cusparse "$@" || echo "(cuSPARSE engine unavailable)"
if python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  echo "== PyTorch eager baseline"
  python3 "$here/pytorch_g2g.py"
else
  echo "== PyTorch baseline skipped (no python3 with CUDA torch)"
fi
