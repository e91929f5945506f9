#!/usr/bin/env bash
# bin/g2g-gpu-tests (bundles built with -Pbundle,bundle-tests): every gpu-tagged test of g2g on
# this machine's GPU, through the JUnit console launcher, with the bundled Java runtime. The
# emulator's self-test is left out (it needs the emulator, which the bundle does not carry).
# Set G2G_REQUIRE_CUDA=1 to turn "CUDA not usable" skips into failures. Extra arguments go to
# the console launcher (e.g. --select-class org.g2g.backend.cuda.CudaKernelParityTest).
here="$(cd "$(dirname "$0")/.." && pwd)"
export MAIN=org.junit.platform.console.ConsoleLauncher
export G2G_EXTRA_CP="$here/app/test/classes:$here/app/test/*"
sel=(--scan-classpath "$here/app/test/classes")
for a in "$@"; do [[ "$a" == --select* ]] && sel=(); done
exec "$here/bin/g2g" execute "${sel[@]}" --include-tag gpu --exclude-tag emulator --exclude-classname '.*EmulatorSelfTest' \
  --disable-banner --details=tree "$@"
