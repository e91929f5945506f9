#!/usr/bin/env bash
# g2g bundle launcher: the bundled Java runtime, the app jars, the libcublas.so.12 shim folder.
# MAIN (environment) picks another main class, G2G_EXTRA_CP adds to the class path (bin/g2g-gpu-tests
# uses both); bin/g2g runs the CLI.
# Each run gets its own temp folder because JCuda extracts its natives there under fixed names.
# Environment: G2G_JAVA_OPTS (extra JVM options), G2G_CUBLAS_LIB (path of libcublas.so.13 when
# the loader cannot find it), LD_LIBRARY_PATH (where libcublas / libcusparse live).
here="$(cd "$(dirname "$0")/.." && pwd)"
MAIN="${MAIN:-org.g2g.cli.Main}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/g2g.XXXXXX")" || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
# same JVM flags as the repository's ./g2g launcher; the incubator notice is filtered from stderr
"$here/runtime/bin/java" --add-modules jdk.incubator.vector "-Xmx${G2G_HEAP:-8g}" -XX:ObjectAlignmentInBytes=64 \
  -XX:+UseParallelGC -Djava.awt.headless=true \
  -Djava.io.tmpdir="$tmp" -Dg2g.native.dir="$here/native" $G2G_JAVA_OPTS \
  -cp "$here/app/g2g.jar:$here/app/lib/*${G2G_EXTRA_CP:+:$G2G_EXTRA_CP}" "$MAIN" "$@" 2> >(grep -v '^WARNING: Using incubator modules' >&2)
