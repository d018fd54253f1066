#!/usr/bin/env bash
# Builds the Lambda deployment package: .build/lambda/<arch>/function.zip with `bootstrap` at its root
# and lib/ holding every shared library it needs, glibc and its loader included.
#
# Why glibc travels too: provided.al2023 has glibc 2.34, this build machine 2.36, and a binary linked
# here may need the newer symbols. The loader is found through PT_INTERP, set to the absolute
# /var/task/lib/ld-linux-*.so (Lambda always unpacks the zip at /var/task); the libraries through an
# absolute RPATH /var/task/lib (not $ORIGIN, which needs /proc; RPATH rather than RUNPATH because only
# RPATH also applies to the libraries' own dependencies and to dlopen, which loads glibc's NSS modules).
set -euo pipefail
PATH="$PATH:/usr/sbin:/sbin"   # ldconfig, which is not on an ordinary user's PATH
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
arch=$(uname -m); [ "$arch" = aarch64 ] && arch=arm64   # Lambda's name for it
out=".build/lambda/$arch"
stage="$out/stage"
"$root/scripts/install-deps.sh" >&2   # patchelf, zip, strip (sam build calls this script directly)
"$root/scripts/build-release.sh" bootstrap >&2
rm -rf "$stage" "$out/function.zip"
mkdir -p "$stage/lib"
cp .build/release/bootstrap "$stage/bootstrap"
strip "$stage/bootstrap"

libdir=$(dirname "$(ldconfig -p | awk '/libc\.so\.6 .*x86-64|libc\.so\.6 .*AArch64|libc\.so\.6 \(libc6/ {print $NF; exit}')")
# What the binary links (libcurl and its tree included), and glibc's resolver modules (dlopened).
needed=$( { ldd "$stage/bootstrap";
            for m in libnss_dns.so.2 libnss_files.so.2 libresolv.so.2; do
              [ -e "$libdir/$m" ] && echo "x => $libdir/$m (0)"; done; } \
          | awk '/=>/ && $3 ~ /^\// {print $3} /^\t\/.*ld-linux/ {print $1}' | sort -u)
for lib in $needed; do
  name=$(basename "$lib")
  cp -L "$lib" "$stage/lib/$name"
  chmod 0755 "$stage/lib/$name"
done
loader=$(ls "$stage"/lib/ld-linux-*.so.* | head -n 1)
for lib in "$stage"/lib/*; do [ "$lib" = "$loader" ] || strip --strip-unneeded "$lib" 2>/dev/null || true; done
patchelf --set-interpreter "/var/task/lib/$(basename "$loader")" --force-rpath --set-rpath /var/task/lib "$stage/bootstrap"
# CA bundles the deployment needs (the RDS bundle for sslmode=verify-full): certs/*.pem, at /var/task/certs/.
if ls certs/*.pem >/dev/null 2>&1; then mkdir -p "$stage/certs" && cp certs/*.pem "$stage/certs/"; fi
(cd "$stage" && zip -q -9 -r "../function.zip" bootstrap lib $( [ -d certs ] && echo certs ))
size=$(stat -c %s "$out/function.zip")
echo "$out/function.zip: $(awk -v s="$size" 'BEGIN {printf "%.2f MB", s/1048576}') ($(ls "$stage/lib" | wc -l) libraries)" >&2
echo "$out/function.zip"
