#!/usr/bin/env bash
# Builds the classes and times one training step of the G2G and dense default models on the CPU backend.
# Usage: benchmarks/step-bench.sh [--threads T] [--batch B] [--steps N] [--warmup N] [--probe]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -Dbuild.dir=target -DskipTests compile
exec java --add-modules jdk.incubator.vector -XX:ObjectAlignmentInBytes=64 -XX:+UseParallelGC -Xms1g -Xmx4g \
  -cp target/classes org.g2g.backend.cpu.StepBench "$@"
