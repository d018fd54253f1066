#!/usr/bin/env bash
# The whole test suite against real parts: a real PostgreSQL (private cluster unless DATABASE_URL is set).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# Every import a declared dependency (the rooms of ../shared/ARCHITECTURE.md hold by their import lines),
# no function over 60 lines outside SQL text, and the format.
swift build --build-tests --explicit-target-dependency-import-check error
python3 scripts/function-length.py
# The sources as swift-format writes them (.swift-format; `make format` rewrites them).
swift format lint --strict --recursive Functions Runtime Tests Fuzz Benchmarks Package.swift
# The template checkers and Svix's own verifier, from PyPI, in a venv of our own (the tests run them).
# Also noida-db, the Kafka-protocol broker the Kafka tests run (Debian has none).
if [ ! -x .build/venv/bin/sam ] || [ ! -x .build/venv/bin/cfn-lint ] || ! .build/venv/bin/python -c "import svix, noida_db, botocore" 2>/dev/null; then
  python3 -m venv .build/venv
  .build/venv/bin/pip install -q --disable-pip-version-check cfn-lint aws-sam-cli svix noida-db==0.2.3 botocore
fi
export CLERK_TOOLS_VENV="$root/.build/venv"
# The deployment zip, which PackageTests runs under chroot.
CLERK_LAMBDA_ZIP="$root/$(scripts/package.sh)"; export CLERK_LAMBDA_ZIP
# `sam build` as the README has it, after a release build in .build/: in place (samconfig.toml), the
# package made once and reused by every function.
arch=$(uname -m); [ "$arch" = aarch64 ] && arch=arm64
rm -f ".build/lambda/$arch/sam-build.log"; rm -rf .build/sam
t0=$(date +%s)
SAM_CLI_TELEMETRY=0 .build/venv/bin/sam build --build-dir .build/sam >.build/sam-build.out 2>&1 \
  || { cat .build/sam-build.out >&2; echo "sam build failed" >&2; exit 1; }
functions=$(grep -c 'BuildMethod: makefile' template.yaml)
built=$(ls .build/sam/*/bootstrap | wc -l); packaged=$(grep -c '^packaged' ".build/lambda/$arch/sam-build.log" || true)
if [ "$built" -ne "$functions" ] || [ "$packaged" -gt 1 ]; then
  echo "sam build: $built of $functions functions built, packaged $packaged times (want $functions and at most 1)" >&2; exit 1
fi
echo "sam build: $built functions in $(( $(date +%s) - t0 )) s, packaged $packaged time(s)" >&2
# The scripts themselves: checkouts under a space and a mode-700 folder, two make runs at once, make clean.
scripts/test-scripts.sh
# Each libFuzzer target for a few seconds from its seeds, so a crash on a known shape fails the suite.
FUZZ_SECONDS=5 scripts/fuzz.sh
CLERK_PG_DATABASE=clerk_functions_test exec "$root/scripts/with-database.sh" "$root/scripts/with-broker.sh" "$root/scripts/with-kafka.sh" swift test --skip-build --disable-swift-testing "$@"
