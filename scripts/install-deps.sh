#!/usr/bin/env bash
# Installs the system packages the build and tests need, only when something is missing.
set -euo pipefail
missing=()
pkg-config --exists libcurl 2>/dev/null || missing+=(libcurl4-openssl-dev)
pkg-config --exists libcrypto 2>/dev/null || missing+=(libssl-dev)
pkg-config --exists libpq 2>/dev/null || missing+=(libpq-dev)
pkg-config --exists librabbitmq 2>/dev/null || missing+=(librabbitmq-dev)
pkg-config --exists rdkafka 2>/dev/null || missing+=(librdkafka-dev)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
# The tests run a private RabbitMQ node (make test); `make run` does not need one.
# (Debian puts it in /usr/sbin, which is not on an ordinary user's PATH.)
if [ "${CLERK_NEED_BROKER:-}" = 1 ] && [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ] \
   && ! PATH="$PATH:/usr/sbin:/sbin" command -v rabbitmq-server >/dev/null 2>&1; then missing+=(rabbitmq-server); fi
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
# gcc builds the benchmarks' C floor; g++ brings the static libstdc++.a the release build links (build-release.sh).
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v patchelf >/dev/null 2>&1 || missing+=(patchelf)
command -v zip >/dev/null 2>&1 || missing+=(zip)
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
command -v strip >/dev/null 2>&1 || missing+=(binutils)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ -e /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# Debian's python3 has the venv module but creates venvs only with ensurepip (python3-venv).
if [ "${CLERK_NEED_BROKER:-}" = 1 ] && ! python3 -c 'import ensurepip' >/dev/null 2>&1; then missing+=(python3-venv); fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    # Not root: install only through sudo that needs no password; otherwise say what to run, and stop
    # here rather than halfway through a build.
    if ! command -v sudo >/dev/null 2>&1 || ! sudo -n true >/dev/null 2>&1; then
      {
        echo "missing Debian packages: ${missing[*]}"
        echo "install them (as root, or with sudo) with:"
        echo "  sudo apt-get install -y ${missing[*]}"
      } >&2
      exit 1
    fi
    sudo="sudo -n"
  fi
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq >&2
  # RUNLEVEL=1 keeps the packages from starting system-wide services: make test runs private ones.
  $sudo env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null 2>&1 || { echo "swift is not on PATH: install Swift 6 (https://swift.org/install)" >&2; exit 1; }
