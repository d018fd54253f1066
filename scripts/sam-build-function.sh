#!/usr/bin/env bash
# What `sam build` runs for every function (Makefile build-%): copies the Lambda package's stage
# (bootstrap + lib/) into ARTIFACTS_DIR. Every function ships the same bootstrap, so the release build
# and packaging run once per `sam build`: later functions reuse the stage when no file of the checkout
# changed since it was packaged (a lock orders functions built in parallel).
#   sam-build-function.sh ARTIFACTS_DIR
set -euo pipefail
dest="${1:?usage: $0 ARTIFACTS_DIR}"
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
arch=$(uname -m); [ "$arch" = aarch64 ] && arch=arm64
out=".build/lambda/$arch"
# A .build made in another folder is unusable (Swift refuses module caches compiled for another path).
# That is what `sam build` without build_in_source (samconfig.toml) hands over: a copy of the checkout.
if ls .build/*.yaml >/dev/null 2>&1 && ! grep -qsF -e "$root/" -e "$(pwd -P)/" .build/*.yaml; then
  echo "sam build: .build/ was copied from another folder; building from scratch in $root" >&2
  rm -rf .build
fi
mkdir -p "$out"
exec 9>"$out/sam-build.lock"
flock 9
stamp="$out/sam-build.stamp"
# sam's build folder (.aws-sam/build, or --build-dir) fills up meanwhile: it does not count as a change.
built_into=$(mkdir -p "$dest" && cd "$dest/.." && pwd)
case "$built_into/" in "$root"/?*) built_into="./${built_into#"$root"/}" ;; *) built_into=./.aws-sam ;; esac
changed() {
  find . \( -path ./.build -o -path ./.git -o -path ./.aws-sam -o -path ./.swiftpm -o -path "$built_into" \) -prune \
    -o -type f -newer "$stamp" -print -quit
}
# One line per function in $out/sam-build.log (sam build shows a build's output only when it fails).
if [ -f "$stamp" ] && [ -x "$out/stage/bootstrap" ] && [ -z "$(changed)" ]; then
  echo "reused $out/stage for $dest" | tee -a "$out/sam-build.log" >&2
else
  # The stamp's time is the start of packaging: a file edited meanwhile makes the next call package again.
  touch "$stamp.next"
  scripts/package.sh >/dev/null
  mv "$stamp.next" "$stamp"
  echo "packaged $out/stage for $dest" | tee -a "$out/sam-build.log" >&2
fi
cp -R "$out/stage/." "$dest/"
