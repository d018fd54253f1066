#!/usr/bin/env bash
# Release build of the named products (default: bootstrap) exactly as the Lambda package ships them, so that
# `make package`, `sam build` and every `make bench-*` measure the same binary.
#   --static-swift-stdlib   no Swift runtime to ship beside the binary
#   --gc-sections           drop unreferenced code and data
#   libstdc++ linked statically (only what the Swift runtime calls, about 80 KB): loading the shared
#                           libstdc++.so.6 cost 1.0 MB of resident memory in every process for a few
#                           functions (measured with /proc/PID/smaps; bench-runtime's peak RSS fell 17.1 → 16.1 MB)
# The Swift driver names -lstdc++ itself, so the static archive is offered through a search folder that
# holds nothing else; ld takes the first folder with a match. Without g++'s archive the build links the
# shared library as before and says so.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
products=("$@"); [ ${#products[@]} -gt 0 ] || products=(bootstrap)
flags=(-c release --static-swift-stdlib -Xlinker --gc-sections)
archive=$(gcc -print-file-name=libstdc++.a 2>/dev/null || true)
if [ -f "$archive" ]; then
  mkdir -p .build/static-libstdc++
  ln -sf "$archive" .build/static-libstdc++/libstdc++.a
  flags+=(-Xlinker -L"$root/.build/static-libstdc++")
else
  echo "build-release: no static libstdc++.a (g++'s); linking the shared libstdc++" >&2
fi
for product in "${products[@]}"; do
  swift build "${flags[@]}" --product "$product"
done
