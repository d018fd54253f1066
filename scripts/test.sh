#!/usr/bin/env bash
# The whole test suite against real parts: a real PostgreSQL (private cluster unless DATABASE_URL is set).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
swift build --build-tests
# The template checkers and Svix's own verifier, from PyPI, in a venv of our own (the tests run them).
if [ ! -x .build/venv/bin/sam ] || [ ! -x .build/venv/bin/cfn-lint ] || ! .build/venv/bin/python -c "import svix" 2>/dev/null; then
  python3 -m venv .build/venv
  .build/venv/bin/pip install -q --disable-pip-version-check cfn-lint aws-sam-cli svix
fi
export CLERK_TOOLS_VENV="$root/.build/venv"
# The deployment zip, which PackageTests runs under chroot.
CLERK_LAMBDA_ZIP="$root/$(scripts/package.sh)"; export CLERK_LAMBDA_ZIP
CLERK_PG_DATABASE=clerk_functions_test exec "$root/scripts/with-database.sh" "$root/scripts/with-broker.sh" swift test --skip-build --disable-swift-testing "$@"
