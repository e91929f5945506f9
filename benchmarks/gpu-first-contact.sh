#!/usr/bin/env bash
# First contact with a GPU host: everything g2g needs to learn from a real GPU, in one run of a
# few minutes, from the self-contained bundle (no JDK, Maven or network needed on the host).
#
# usage: benchmarks/gpu-first-contact.sh [--bundle DIR] [--data DIR] [--quick] [--out DIR]
#   --bundle DIR  the unpacked bundle (default: the folder above this script when it sits in a
#                 bundle, else ./g2g or target/bundle/g2g). Build it with
#                 `mvn package -Pbundle,bundle-tests` (target/g2g-bundle.tar.gz, GPU tests inside).
#   --data DIR    Fashion-MNIST (the four idx .gz files); default $G2G_DATA/fashion-mnist, then
#                 ./data/fashion-mnist. Without it the real-data training is skipped (said so).
#   --quick       fewer steps everywhere (the rehearsal on the emulated device uses it)
#   --out DIR     where logs, JSON and CSV go (default: a fresh folder under /tmp); printed.
#
# Prints, in order: host facts (GPU, driver, glibc, CUDA libraries found); `g2g devices`; every
# gpu-tagged test on the device (both sparse engines); a short Fashion-MNIST training with
# --device cuda next to --device cpu; `g2g profile` and `g2g bench` on the device; the PyTorch
# baseline (eager and CUDA-graph captured) on the same GPU; then the ratios of issue 12 with
# their targets. Nothing is built. Run it under G2G_CUDA_EMULATION=1 to rehearse on a CPU: every
# figure is then labelled as the emulated device's, never a GPU's.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bundle="" data="" quick=0 out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bundle) bundle="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "gpu-first-contact: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ -z "$bundle" ]]; then
  for c in "$here/.." ./g2g "$here/../target/bundle/g2g"; do
    [[ -x "$c/bin/g2g" && -d "$c/runtime" ]] && bundle="$(cd "$c" && pwd)" && break
  done
fi
if [[ -z "$bundle" || ! -x "$bundle/bin/g2g" ]]; then
  echo "gpu-first-contact: no bundle found: unpack target/g2g-bundle.tar.gz and pass --bundle DIR" >&2
  exit 2
fi
out="${out:-$(mktemp -d "${TMPDIR:-/tmp}/g2g-first-contact.XXXXXX")}"
mkdir -p "$out"
g2g="$bundle/bin/g2g"
t_start=$SECONDS
section() { printf '\n== %s (t=%ds)\n' "$1" $((SECONDS - t_start)); }

if [[ -n "${G2G_CUDA_EMULATION:-}" ]]; then
  where="the emulated CUDA device (CPU emulation; no figure below is a GPU's)"
  # the bundle carries no emulator: use the repository's build when rehearsing
  emu_lib="${G2G_EMU_LIB:-$here/../target/emu/lib}"
  [[ -d "$emu_lib" ]] && export LD_LIBRARY_PATH="$emu_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
else
  where="the GPU"
fi

section "host"
echo "bundle: $bundle ($(du -sh "$bundle" 2>/dev/null | cut -f1)); output: $out"
uname -srm
echo "glibc: $(ldd --version 2>/dev/null | head -1)"
"$bundle/runtime/bin/java" -version 2>&1 | head -1
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap,clocks.max.sm --format=csv 2>&1
else
  echo "nvidia-smi: not found"
fi
# cuBLAS 13 and cuSPARSE 12 from the pip wheels (nvidia-cublas, nvidia-cusparse) when the loader has none
if [[ -z "${G2G_CUDA_EMULATION:-}" ]] && command -v python3 >/dev/null 2>&1; then
  for mod in nvidia.cublas nvidia.cusparse nvidia.cuda_runtime nvidia.nvjitlink; do
    d="$(python3 -c "import $mod, os; print(os.path.join(list($mod.__path__)[0], 'lib'))" 2>/dev/null)"
    [[ -n "$d" && -d "$d" ]] && export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  done
fi
echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
for lib in libcuda.so.1 libcublas.so.13 libcublas.so.12 libcusparse.so.12; do
  found=""
  IFS=: read -ra dirs <<< "${LD_LIBRARY_PATH:-}"
  for d in "${dirs[@]}" /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/nvidia/lib64 /usr/local/cuda/lib64; do
    [[ -n "$d" && -e "$d/$lib" ]] && found="$d/$lib" && break
  done
  [[ -z "$found" ]] && found="$(ldconfig -p 2>/dev/null | awk -v l="$lib" '$1 == l {print $NF; exit}')"
  echo "$lib: ${found:-not found}"
done

section "g2g devices"
"$g2g" devices 2>&1

section "gpu tests on $where (both sparse engines)"
if [[ -x "$bundle/bin/g2g-gpu-tests" ]]; then
  G2G_REQUIRE_CUDA=1 "$bundle/bin/g2g-gpu-tests" 2>&1 | tee "$out/gpu-tests.log" | grep -vE '^\s*$' | tail -40
  echo "gpu tests: exit ${PIPESTATUS[0]} (full log: $out/gpu-tests.log)"
else
  echo "skipped: this bundle has no GPU tests (build it with mvn package -Pbundle,bundle-tests)"
fi

section "Fashion-MNIST training, --device cuda next to --device cpu"
if [[ -z "$data" ]]; then
  for c in "${G2G_DATA:-/nonexistent}/fashion-mnist" ./data/fashion-mnist /usr/share/datasets/fashion-mnist; do
    [[ -f "$c/train-images-idx3-ubyte.gz" ]] && data="$c" && break
  done
fi
if [[ -n "$data" ]]; then
  limits=(--limit-train 60000)
  [[ $quick == 1 ]] && limits=(--limit-train 2000 --limit-test 1000 --hidden 256)
  for dev in cuda cpu; do
    echo "-- --device $dev"
    "$g2g" train --device "$dev" --data "$data" --epochs 1 "${limits[@]}" --out "$out/train-$dev" 2>&1 \
      | grep -v '^epoch [0-9]* step' | tail -4
  done
  for dev in cuda cpu; do
    f="$out/train-$dev/metrics.csv"
    [[ -f "$f" ]] && echo "metrics $dev: $(tail -1 "$f")"
  done
else
  echo "skipped: no Fashion-MNIST found (pass --data DIR with the four idx .gz files)"
fi

# --quick (the rehearsal on the emulated device, which runs kernels on one CPU core): small shapes
steps=200 hidden=1024 calib=() shapes=(--widths 1024 --batches 256,4096) mintime=0.3 concurrent=8
if [[ $quick == 1 ]]; then
  steps=8 hidden=256 calib=(--calibration-size 256) shapes=(--widths 256 --batches 64,256 --layer-width 256 --layer-batches 64,256) mintime=0.02 concurrent=2
fi
model=(--hidden "$hidden") arch="784-${hidden}x3-10"  # every label below names the model that ran
# --encoder none: the model benchmarks/pytorch_g2g.py builds (flattened pixels; --hidden the same)
section "g2g profile on $where: G2GNet $arch vs dense, CUDA graphs on (host time, launches, free-running samples/s)"
"$g2g" profile --device cuda --encoder none --cuda-graphs on --compare g2g,dense "${model[@]}" "${calib[@]}" \
  --warmup $((steps / 4 + 1)) --steps "$steps" --repeats 1 --dst-updates 1 --json "$out/profile.json" 2>&1 | tail -25
section "g2g profile on $where: K = 1, 2, 4, ... $concurrent G2GNet runs at once, each on its own stream (sweep --parallel K)"
"$g2g" profile --device cuda --encoder none --cuda-graphs on --compare g2g "${model[@]}" "${calib[@]}" \
  --warmup $((steps / 4 + 1)) --steps "$steps" --repeats 1 --dst-updates 0 --concurrent "$concurrent" \
  --json "$out/profile-concurrent.json" 2>&1 | sed -n '/^concurrent runs of/,$p'
section "g2g profile on $where: the same G2GNet with --cuda-graphs off (every kernel launched from the host)"
"$g2g" profile --device cuda --encoder none --cuda-graphs off --compare g2g "${model[@]}" "${calib[@]}" \
  --warmup $((steps / 4 + 1)) --steps "$steps" --repeats 1 --dst-updates 0 --json "$out/profile-graphs-off.json" 2>&1 | tail -4
section "g2g profile on $where: the same G2GNet under --precision tf32 (group blocks on tensor cores), CUDA graphs on"
"$g2g" profile --device cuda --encoder none --cuda-graphs on --precision tf32 --compare g2g "${model[@]}" "${calib[@]}" \
  --warmup $((steps / 4 + 1)) --steps "$steps" --repeats 1 --dst-updates 0 --json "$out/profile-tf32.json" 2>&1 | tail -4

section "g2g bench on $where: sparse layer at density 0.256 vs cuBLAS dense"
# the layer grid and the layer table (forward + fused backward): the targets need no more; the density table (the default model's step
# under ER masks) takes minutes on the emulated device
"$g2g" bench --device cuda --tables grid,layer "${shapes[@]}" --densities 0.256 --groups 8 --min-time "$mintime" --out "$out/bench" 2>&1 | tail -12
section "g2g bench on $where: the layer table under --precision tf32 (group blocks on tensor cores, cuBLAS in TF32 math)"
"$g2g" bench --device cuda --precision tf32 --tables layer "${shapes[@]}" --min-time "$mintime" --out "$out/bench-tf32" 2>&1 | tail -6

section "PyTorch on the same device"
torch_dev=cuda:0
[[ -n "${G2G_CUDA_EMULATION:-}" ]] && torch_dev=cpu
if python3 -c "import torch" 2>/dev/null; then
  for mode in eager graphed; do
    if [[ $mode == graphed && $torch_dev == cpu ]]; then echo "pytorch graphed: skipped (needs a CUDA device)"; continue; fi
    python3 "$here/pytorch_g2g.py" --device "$torch_dev" --mode "$mode" --hidden "$hidden" --steps "$([[ $quick == 1 ]] && echo 5 || echo 300)" \
      2>&1 | tee "$out/pytorch-$mode.txt" | tail -1
  done
else
  echo "skipped: python3 has no torch"
fi

section "ratios (issue 12 targets) on $where"
python3 - "$out" "$where" "$arch" <<'PY' 2>&1 || echo "ratios: could not compute (see the sections above)"
import csv, json, os, re, sys
out, where, arch = sys.argv[1], sys.argv[2], sys.argv[3]
def sps_of(path):
    try:
        m = re.search(r"([0-9.]+) samples/s", open(path).read())
        return float(m.group(1)) if m else None
    except OSError:
        return None
g2g = dense = host_us = launches = host_off = launches_off = g2g_tf32 = None
try:
    p = json.load(open(os.path.join(out, "profile.json")))
    for m in p["models"]:
        # free-running (steps queued back to back, replayed as CUDA graphs): what training sees;
        # the phase-split median waits for the device at every phase boundary
        sps = m.get("free_running_samples_per_second") or m["samples_per_second"]["median"]
        if m["name"] == "g2g":
            g2g, host_us, launches = sps, m.get("host_us_per_step"), m.get("launches_per_step")
        if m["name"] == "dense":
            dense = sps
    q = json.load(open(os.path.join(out, "profile-graphs-off.json")))
    host_off, launches_off = q["models"][0].get("host_us_per_step"), q["models"][0].get("launches_per_step")
except (OSError, KeyError, ValueError, IndexError) as e:
    print(f"profile JSON unreadable: {e}")
try:
    t = json.load(open(os.path.join(out, "profile-tf32.json")))["models"][0]
    g2g_tf32 = t.get("free_running_samples_per_second") or t["samples_per_second"]["median"]
except (OSError, KeyError, ValueError, IndexError) as e:
    print(f"profile-tf32.json unreadable: {e}")
eager, graphed = sps_of(os.path.join(out, "pytorch-eager.txt")), sps_of(os.path.join(out, "pytorch-graphed.txt"))
def line(name, value, target):
    v = "n/a" if value is None else f"{value:.2f}x"
    print(f"{name:<62} {v:>9}   target {target}")
print(f"(measured on {where})")
print(f"g2g G2GNet {arch} training: {g2g and round(g2g)} samples/s; g2g dense same widths: {dense and round(dense)}; "
      f"host time per step: {host_us and round(host_us)} us with CUDA graphs ({launches} launches), "
      f"{host_off and round(host_off)} us without ({launches_off} launches)")
line("host time per step, CUDA graphs off / on", host_off / host_us if host_off and host_us else None, ">= 10x")
line(f"g2g {arch} samples/s / PyTorch eager F.linear(x, W*mask)", g2g / eager if g2g and eager else None, ">= 3x")
line(f"g2g {arch} samples/s / PyTorch captured as a CUDA graph", g2g / graphed if g2g and graphed else None, ">= 1x")
line(f"g2g {arch} samples/s, --precision tf32 / fp32", g2g_tf32 / g2g if g2g and g2g_tf32 else None, "(no target; > 1x: tensor cores pay)")
try:
    rows = list(csv.DictReader(open(os.path.join(out, "bench", "bench.csv"))))
    for r in rows:
        if r.get("op") == "layer" and r.get("speedup"):
            target = {"256": ">= 1.5x", "4096": ">= 2x"}.get(r["batch"], "(no target at this batch)")
            line(f"sparse layer {r['width']}x{r['width']} d={float(r['actual_density']):.3f} fwd+bwd, batch {r['batch']}, "
                 f"{r['engine']} vs dense", float(r["speedup"]), target)
except (OSError, KeyError, ValueError) as e:
    print(f"bench.csv unreadable: {e}")
for sub, prec in (("bench", "fp32"), ("bench-tf32", "tf32")):
    try:  # the layer as a training step runs it: forward + one fused backward (bench --tables layer)
        for r in csv.DictReader(open(os.path.join(out, sub, "bench-layer.csv"))):
            line(f"G2G layer {r['width']}x{r['width']} d={float(r['density']):.3f} fwd + fused bwd, batch {r['batch']}, "
                 f"vs dense, both {prec}", float(r["speedup"]), f">= {r['target']}x")
    except (OSError, KeyError, ValueError) as e:
        print(f"{sub}/bench-layer.csv unreadable: {e}")
try:  # what tf32 buys each side: fp32 time / tf32 time of the same layer (tensor cores vs CUDA cores)
    f32 = {r["batch"]: r for r in csv.DictReader(open(os.path.join(out, "bench", "bench-layer.csv")))}
    for r in csv.DictReader(open(os.path.join(out, "bench-tf32", "bench-layer.csv"))):
        b = f32.get(r["batch"])
        if b is None:
            continue
        for side, col in (("G2G layer", "sparse_ms"), ("dense (cuBLAS)", "dense_ms")):
            if col in r and col in b:
                line(f"{side} {r['width']}x{r['width']}, batch {r['batch']}: fp32 time / tf32 time", float(b[col]) / float(r[col]),
                     "(no target; > 1x: tensor cores pay)")
        # the issue's yardstick is cuBLAS dense in FP32: our layer under tf32 against it (labelled as such)
        line(f"G2G layer {r['width']}x{r['width']} tf32 vs cuBLAS dense fp32, batch {r['batch']}",
             float(b["dense_ms"]) / float(r["sparse_ms"]), f">= {r['target']}x (our tf32 against fp32 dense)")
except (OSError, KeyError, ValueError, ZeroDivisionError) as e:
    print(f"tf32 vs fp32 layer times unreadable: {e}")
try:
    c = json.load(open(os.path.join(out, "profile-concurrent.json")))["concurrency"]
    top = c["levels"][-1]
    print(f"concurrent G2GNet runs on {c['device']}" + (" (CPU emulation: not a GPU's figures)" if c["emulated"] else "") + ": "
          + ", ".join(f"K={l['runs']} {l['samples_per_second']:.0f} samples/s" for l in c["levels"]))
    line(f"sweep throughput K={top['runs']} concurrent runs / K=1 (g2g profile --concurrent)", top["speedup_over_one"],
         ">= 4x" if top["runs"] == 8 else "(target is for K=8)")
except (OSError, KeyError, ValueError, IndexError, TypeError) as e:
    print(f"profile-concurrent.json unreadable: {e}")
    line("sweep throughput K=8 concurrent runs / K=1 (g2g profile --concurrent)", None, ">= 4x")
PY
echo
echo "first contact done in $((SECONDS - t_start)) s; logs and files in $out"
