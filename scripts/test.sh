#!/usr/bin/env bash
# The whole test suite against real parts: a real PostgreSQL (private cluster unless DATABASE_URL is set).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
swift build --build-tests
# The deployment zip, which PackageTests runs under chroot.
CLERK_LAMBDA_ZIP="$root/$(scripts/package.sh)"; export CLERK_LAMBDA_ZIP
CLERK_PG_DATABASE=clerk_functions_test exec "$root/scripts/with-database.sh" "$root/scripts/with-broker.sh" swift test --skip-build --disable-swift-testing "$@"
