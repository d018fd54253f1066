import JSON
import LambdaRuntime
import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

// clerk-bench: prints figures, and checks every answer it times (never a timing): a suite where any timed
// iteration gave the wrong answer exits 1 before its figure. `clerk-bench <suite> [options]`.

let arguments = Array(CommandLine.arguments.dropFirst())
guard let suite = arguments.first else {
    FileIO.write(fd: 2, "usage: clerk-bench runtime|webhooks|tokens|machine|outbox|backfill|coldstart [options]\n")
    exit(2)
}
let options = BenchOptions(Array(arguments.dropFirst()))
switch suite {
case "runtime":
    RuntimeBenchmark.run(options)
case "webhooks":
    WebhookBenchmark.run(options)
case "tokens":
    TokenBenchmark.run(options)
case "outbox":
    OutboxBenchmark.run(options)
case "backfill":
    BackfillBenchmark.run(options)
case "coldstart":
    ColdStartBenchmark.run(options)
case "machine":
    MachineTokenBenchmark.run(options)
default:
    FileIO.write(fd: 2, "unknown suite \(suite)\n")
    exit(2)
}
