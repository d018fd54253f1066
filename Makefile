# The two commands: `make run` (build, local database, replay events/) and `make test` (the whole suite).
SHELL := /bin/bash
.DEFAULT_GOAL := run

.PHONY: run test unit format mutants fuzz deps build release package order-file bench-runtime bench-webhooks bench-tokens bench-outbox bench-backfill bench-coldstart bench-machine clean

deps:
	@scripts/install-deps.sh

build: deps
	swift build

run: build
	scripts/with-database.sh scripts/run-events.sh

test:
	CLERK_NEED_BROKER=1 scripts/install-deps.sh
	scripts/test.sh

# The unit tier: every handler's decisions with the database, the Backend API, the profile service and the
# brokers in memory. No server, no network; seconds, not minutes. It never replaces `make test`.
unit: deps
	env -u DATABASE_URL -u CLERK_LOCAL_POSTGRES swift test --disable-swift-testing --filter 'ClerkFunctionsUnitTests|LambdaRuntimeTests|JSONTests'

# Rewrites the sources as .swift-format says (`make test` fails on any difference: `swift format lint --strict`).
format:
	swift format format --in-place --recursive Functions Runtime Tests Fuzz Benchmarks Package.swift

# Each guard the project relies on taken out in turn (scripts/mutants.list), rebuilt, and only the tests named for it
# run: which faults does no test catch? Not part of `make test`; `scripts/mutants.sh ID…` makes only some.
mutants:
	CLERK_NEED_BROKER=1 scripts/install-deps.sh
	scripts/mutants.sh

# Every libFuzzer target (Fuzz/) for FUZZ_SECONDS each (default 60), one after the other; executions per target.
fuzz:
	scripts/fuzz.sh

release: deps
	scripts/build-release.sh bootstrap clerk-bench

# Regenerates Functions/bootstrap/bootstrap.order (the link order of what a Lambda process runs) under valgrind.
order-file: deps
	scripts/order-file.sh

# The Lambda deployment package: .build/lambda/<arch>/function.zip (bootstrap + lib/).
package: deps
	scripts/package.sh

# Runtime loop throughput, CPU per invocation, exec-to-first-next, RSS and binary size (echo function).
# The floor is a bare C loop on libcurl (Benchmarks/curl-floor), run against the same mock in the same run.
# NEUTRAL_MOCK names the mock elsewhere (a worktree outside the checkout's parent).
NEUTRAL_MOCK ?= ../shared/bench/mock_runtime_api.py
bench-runtime: release
	mkdir -p .build/bench && gcc -O2 -o .build/bench/curl_loop Benchmarks/curl-floor/curl_loop.c -lcurl
	.build/release/clerk-bench runtime --binary .build/release/bootstrap --floor .build/bench/curl_loop \
	  --invocations 20000 --neutral-mock $(NEUTRAL_MOCK)

# Verify-only cost of a 2 KiB webhook, and verified-and-synced user.updated deliveries per second next to a plain UPSERT
# of the same rows.
bench-webhooks: release
	scripts/with-database.sh .build/release/clerk-bench webhooks

# Verifications per second of a cached-key RS256 session token, next to openssl speed rsa2048.
bench-tokens: release
	.build/release/clerk-bench tokens

# An opaque machine-token check from the cache, and one through the Backend API stand-in next to a bare loopback round trip;
# then 10,000 random opaque tokens with and without the per-container caps (calls made, time, what real tokens got).
bench-machine: release
	.build/release/clerk-bench machine

# Outbox rows to RabbitMQ (confirms; beside AMQPPublisher alone) and to Kafka (acks=all; beside the producer alone)
# per second, and onUserCreated end to end with a local profile receiver.
bench-outbox: release
	CLERK_NEED_BROKER=1 scripts/install-deps.sh
	scripts/with-database.sh scripts/with-broker.sh scripts/with-kafka.sh .build/release/clerk-bench outbox

# Users per second from the Backend API stand-in into the local PostgreSQL, next to a plain-INSERT floor.
bench-backfill: release
	scripts/with-database.sh .build/release/clerk-bench backfill

# Exec-to-first-response of the packaged bootstrap under chroot (median of 20), with and without a database; zip size.
# The floor, in the same root on the package's libraries: the bare C libcurl loop, and for `health` the same loop
# with a libpq connection at init (Benchmarks/curl-floor, built with FLOOR_LIBPQ).
bench-coldstart: release
	scripts/package.sh
	mkdir -p .build/bench && gcc -O2 -o .build/bench/curl_loop Benchmarks/curl-floor/curl_loop.c -lcurl
	gcc -O2 -DFLOOR_LIBPQ -I"$$(pg_config --includedir)" -o .build/bench/curl_pq_loop Benchmarks/curl-floor/curl_loop.c -lcurl -lpq
	scripts/with-database.sh .build/release/clerk-bench coldstart --floor .build/bench/curl_loop --floor-pq .build/bench/curl_pq_loop

# Also removes the servers' private folders under the temp directory, when they had to live there.
clean:
	scripts/local-postgres.sh clean || true
	scripts/local-rabbitmq.sh clean || true
	scripts/local-kafka.sh clean || true
	rm -rf .build .aws-sam

# `sam build` runs build-<LogicalId> with ARTIFACTS_DIR set: every function ships the same bootstrap,
# packaged once per `sam build` (samconfig.toml builds in source, so .build/ is not copied).
build-%:
	scripts/sam-build-function.sh "$(ARTIFACTS_DIR)"
