import JSON
import LambdaRuntime
import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

/// `bench-runtime`: the shipped binary running `echo` against a Runtime API on loopback.
enum RuntimeBenchmark {
    static let event = Array("\"Seb\"".utf8)  // the neutral mock's default (MODE=string) payload

    static func run(_ options: BenchOptions) {
        let binary = options.string("binary", ".build/release/bootstrap")
        let floor = options.string("floor", ".build/bench/curl_loop")
        let script = options.string("neutral-mock", "../shared/bench/mock_runtime_api.py")
        let n = options.int("invocations", 20_000)
        let rounds = options.int("rounds", 5)
        print("runtime benchmark: _HANDLER=echo, \(n) invocations per round, \(rounds) rounds, neutral mock \(script)")
        print("binary: \(binary); floor: \(floor) (bare C loop on libcurl's easy interface)")
        print("stripped binary size: \(strippedSize(binary).map { fmt(Double($0) / 1_048_576, 2) + " MB" } ?? "n/a")")
        guard FileIO.exists(script), FileIO.exists(floor) else {
            print("missing \(FileIO.exists(script) ? floor : script)")
            exit(1)
        }
        // What the mock cannot see (it discards response bodies): each one, through the in-process Runtime API,
        // must echo its event. The timed runs are checked by the mock's own counts (`neutralMock`).
        echoCheck(binary: floor, label: "runtime c-floor")
        echoCheck(binary: binary, label: "runtime bootstrap")
        var ours: [Figures] = []
        var bare: [Figures] = []
        for round in 1...rounds {
            // Interleaved, so drift in the machine's load touches both alike.
            guard let c = neutralMock(script: script, binary: floor, invocations: n, label: "runtime c-floor round \(round)"),
                let o = neutralMock(script: script, binary: binary, invocations: n, label: "runtime bootstrap round \(round)")
            else { exit(1) }
            print("round \(round): C floor \(c.line)")
            print("round \(round): bootstrap \(o.line)")
            bare.append(c)
            ours.append(o)
        }
        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        let oIPS = median(ours.map(\.perSecond))
        let cIPS = median(bare.map(\.perSecond))
        let oCPU = median(ours.map(\.cpuUs))
        let cCPU = median(bare.map(\.cpuUs))
        print(
            "RESULT bootstrap invocations_per_s=\(fmt(oIPS, 0)) cpu_us_per_invocation=\(fmt(oCPU, 1)) "
                + "exec_to_first_next_ms=\(fmt(median(ours.map(\.initMs)), 2)) peak_rss_mb=\(fmt(ours.map(\.rssMB).max() ?? 0, 1))")
        print(
            "RESULT c-floor invocations_per_s=\(fmt(cIPS, 0)) cpu_us_per_invocation=\(fmt(cCPU, 1)) "
                + "exec_to_first_next_ms=\(fmt(median(bare.map(\.initMs)), 2)) peak_rss_mb=\(fmt(bare.map(\.rssMB).max() ?? 0, 1))")
        print(
            "RATIO invocations_per_s bootstrap/floor=\(fmt(oIPS / cIPS, 2)) (target >= 0.85); "
                + "cpu_per_invocation bootstrap/floor=\(fmt(oCPU / cCPU, 2)) (target <= 1.25)")
    }

    struct Figures {
        var perSecond: Double
        var cpuUs: Double
        var initMs: Double
        var rssMB: Double
        var line: String {
            "\(fmt(perSecond, 0)) invocations/s, \(fmt(cpuUs, 1)) us CPU/invocation, exec-to-first-next \(fmt(initMs, 2)) ms, peak RSS \(fmt(rssMB, 1)) MB"
        }
    }

    static func environment(_ endpoint: String) -> [String: String] {
        [
            "AWS_LAMBDA_RUNTIME_API": endpoint, "_HANDLER": "echo", "AWS_LAMBDA_LOG_LEVEL": "warn",
            "PATH": "/usr/bin:/bin", "AWS_LAMBDA_FUNCTION_NAME": "echo", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"
        ]
    }

    static func wallNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// One run of `binary` against the neutral mock: its throughput and exec-to-first-next as the mock
    /// measured them, the runtime process's CPU and peak RSS as the kernel accounted them.
    /// Every invocation must come back as a response for an id the mock handed out: the mock's counts of
    /// completed invocations, error posts, unknown ids, init errors and unknown paths are checked (`label`).
    static func neutralMock(script: String, binary: String, invocations n: Int, label: String) -> Figures? {
        let dir = "/tmp/clerk-bench-\(getpid())"
        mkdir(dir, 0o700)
        let portFile = dir + "/port"
        let startFile = dir + "/start"
        let jsonFile = dir + "/figures.json"
        unlink(portFile)
        unlink(jsonFile)
        defer {
            unlink(portFile)
            unlink(startFile)
            unlink(jsonFile)
            rmdir(dir)
        }
        do {
            let mock = try Subprocess(
                path: "/usr/bin/env",
                arguments: [
                    "python3", script, "--port", "0", "--port-file", portFile, "-n", String(n), "--start-file", startFile, "--json-out", jsonFile,
                    "--quiet"
                ], environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"], captureOutput: true)
            var port = ""
            for _ in 0..<500 where port.isEmpty {
                port = ((try? FileIO.readText(portFile)) ?? "").trimmingWhitespace()
                if port.isEmpty { usleep(10_000) }
            }
            FileIO.write(fd: open(startFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600), String(wallNs()))
            let child = try Subprocess(path: binary, environment: environment("127.0.0.1:" + port))
            // The kernel's ru_maxrss of a posix_spawn child counts the spawner's memory (the child shares it
            // until exec), and the runtime leaves as soon as the mock closes, so sample its own high-water mark
            // (VmHWM, which only grows) while it runs.
            let sampler = HighWaterSampler(pid: child.pid)
            let out = String(decoding: (mock.stdoutFD.flatMap { try? FileIO.readAll(fd: $0) }) ?? [], as: UTF8.self)
            _ = mock.wait()
            let hwmKiB = sampler.stop()
            child.kill(SIGTERM)
            let exit = child.wait()
            guard let line = out.split(separator: "\n").first(where: { $0.hasPrefix("RESULT") }) else {
                print("the mock printed no result: \(out)")
                return nil
            }
            checkMock(jsonFile, invocations: n, label: label)
            var fields: [String: Double] = [:]
            for part in line.split(separator: " ") {
                let kv = part.split(separator: "=", maxSplits: 1)
                if kv.count == 2, let v = Double(kv[1]) { fields[String(kv[0])] = v }
            }
            return Figures(
                perSecond: fields["invocations_per_s"] ?? 0, cpuUs: Double(exit.cpuMicroseconds) / Double(n),
                initMs: fields["init_ms"] ?? 0, rssMB: Double(hwmKiB ?? exit.maxRSSKiB) / 1024)
        } catch {
            print("neutral mock run failed: \(error)")
            return nil
        }
    }

    /// Reads a process's `VmHWM` every 20 ms on a thread of its own, keeping the largest value seen.
    final class HighWaterSampler: @unchecked Sendable {
        private let lock = ConditionLock()
        private var running = true
        private var peak: Int64?

        init(pid: pid_t) {
            Threads.detach { [self] in
                while lock.withLock({ running }) {
                    if let v = RuntimeBenchmark.highWaterMarkKiB(pid: pid) { lock.withLock { peak = max(peak ?? 0, v) } }
                    usleep(20_000)
                }
            }
        }

        /// Stops sampling (one last read first) and answers the peak, nil when the process could not be read.
        func stop() -> Int64? {
            lock.withLock {
                running = false
                return peak
            }
        }
    }

    /// `VmHWM` from `/proc/<pid>/status`: the process's own peak resident set, in KiB.
    static func highWaterMarkKiB(pid: pid_t) -> Int64? {
        guard let text = try? FileIO.readText("/proc/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int64(line.dropFirst(6).filter(\.isNumber))
        }
        return nil
    }

    static func strippedSize(_ binary: String) -> Int? {
        let out = "/tmp/clerk-bench-stripped-\(getpid())"
        defer { unlink(out) }
        guard let r = try? Subprocess.run(path: "/usr/bin/strip", arguments: ["-o", out, binary], environment: [:]),
            r.exit.code == 0
        else { return nil }
        var st = stat()
        return stat(out, &st) == 0 ? Int(st.st_size) : nil
    }

    /// The mock's figures (`--json-out`): every invocation completed as a response, nothing else seen.
    static func checkMock(_ jsonFile: String, invocations n: Int, label: String) {
        guard let text = try? FileIO.readText(jsonFile), let figures = try? JSONValue.parse(Array(text.utf8)) else {
            Tally.abort("CHECK \(label) FAILED (the mock wrote no figures)", "\(label): the mock wrote no figures")
        }
        func count(_ name: String) -> Int { figures[name]?.doubleValue.map { Int($0) } ?? -1 }
        let completed = count("invocations_completed")
        let errors = count("errors_posted")
        let unknown = count("unknown_request_ids")
        let initErrors = count("init_errors")
        let notFound = count("not_found")
        let timedOut = figures["timed_out"]?.boolValue ?? true
        let clean = completed == n && errors == 0 && unknown == 0 && initErrors == 0 && notFound == 0 && !timedOut
        Tally.expect(
            "\(label) invocations answered as responses", clean,
            "completed \(completed)/\(n), errors \(errors), unknown ids \(unknown), init errors \(initErrors), "
                + "unknown paths \(notFound), timed out \(timedOut)")
    }

    /// Runs `binary` against the in-process Runtime API for `count` events; every response must be the event.
    static func echoCheck(binary: String, label: String, count: Int = 200) {
        var echoed = Tally("\(label) responses echo their event")
        do {
            let api = try LocalRuntimeAPI()
            let child = try Subprocess(path: binary, environment: environment(api.endpoint))
            defer {
                child.kill(SIGTERM)
                _ = child.wait()
                api.stop()
            }
            for _ in 0..<count {
                guard let outcome = api.invoke(event, timeoutMs: 10_000) else {
                    echoed.fail("no answer")
                    break
                }
                echoed.record(!outcome.isError && outcome.body == event, else: outcome.isError ? "error \(outcome.errorType ?? "")" : "other body")
            }
        } catch {
            echoed.fail("\(error)")
        }
        echoed.require(count)
    }
}
