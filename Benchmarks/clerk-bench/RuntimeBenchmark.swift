import JSON
import LocalHosting
import LambdaRuntime
#if canImport(Glibc)
import Glibc
#endif

/// `bench-runtime`: the shipped binary running `echo` against a Runtime API on loopback.
enum RuntimeBenchmark {
    static let event = Array("\"Seb\"".utf8)  // the neutral mock's default (MODE=string) payload

    static func run(_ options: BenchOptions) {
        let binary = options.string("binary", ".build/release/bootstrap")
        let n = options.int("invocations", 20_000)
        let rounds = options.int("rounds", 3)
        print("clerk-functions runtime benchmark: _HANDLER=echo, \(n) invocations per round, \(rounds) rounds")
        print("binary: \(binary)")
        print("stripped binary size: \(strippedSize(binary).map { fmt(Double($0) / 1_048_576, 2) + " MB" } ?? "n/a")")
        var results: [Figures] = []
        for round in 1...rounds {
            guard let f = ownMock(binary: binary, invocations: n) else { exit(1) }
            print("own mock, round \(round): \(f.line)")
            results.append(f)
        }
        let best = results.max { $0.perSecond < $1.perSecond }!
        let medianInit = results.map(\.initMs).sorted()[results.count / 2]
        print("RESULT own-mock invocations_per_s=\(fmt(best.perSecond, 0)) cpu_us_per_invocation=\(fmt(best.cpuUs, 1)) "
              + "exec_to_first_next_ms=\(fmt(medianInit, 2)) peak_rss_mb=\(fmt(best.rssMB, 1))")
        if let neutral = options.optional("neutral-mock") {
            if FileIO.exists(neutral) {
                for round in 1...rounds { neutralMock(script: neutral, binary: binary, invocations: n, round: round) }
            } else {
                print("neutral mock not found at \(neutral): skipped")
            }
        }
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
        ["AWS_LAMBDA_RUNTIME_API": endpoint, "_HANDLER": "echo", "AWS_LAMBDA_LOG_LEVEL": "warn",
         "PATH": "/usr/bin:/bin", "AWS_LAMBDA_FUNCTION_NAME": "echo", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"]
    }

    static func wallNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    static func ownMock(binary: String, invocations n: Int) -> Figures? {
        do {
            let api = try LocalRuntimeAPI()
            api.enqueueRepeating(event, count: n)
            let start = wallNs()
            let child = try Subprocess(path: binary, environment: environment(api.endpoint))
            guard api.waitForCompleted(n, timeoutMs: 300_000) else {
                print("runtime did not finish \(n) invocations")
                child.kill(SIGKILL)
                return nil
            }
            api.stop()  // the runtime's next `next` fails: it exits
            let exit = child.wait()
            let wallS = Double(api.lastResultNs - api.firstNextNs) / 1e9
            return Figures(perSecond: Double(n) / wallS, cpuUs: Double(exit.cpuMicroseconds) / Double(n),
                           initMs: Double(api.firstNextWallNs - start) / 1e6, rssMB: Double(exit.maxRSSKiB) / 1024)
        } catch {
            print("benchmark failed: \(error)")
            return nil
        }
    }

    static func neutralMock(script: String, binary: String, invocations n: Int, round: Int) {
        let dir = "/tmp/clerk-bench-\(getpid())"
        mkdir(dir, 0o700)
        let portFile = dir + "/port", startFile = dir + "/start"
        unlink(portFile)
        do {
            let mock = try Subprocess(path: "/usr/bin/env", arguments: [
                "python3", script, "--port", "0", "--port-file", portFile, "-n", String(n), "--start-file", startFile, "--quiet",
            ], environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"], captureOutput: true)
            var port = ""
            for _ in 0..<500 where port.isEmpty {
                port = ((try? FileIO.readText(portFile)) ?? "").trimmingWhitespace()
                if port.isEmpty { usleep(10_000) }
            }
            let startNs = wallNs()
            FileIO.write(fd: open(startFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600), String(startNs))
            let child = try Subprocess(path: binary, environment: environment("127.0.0.1:" + port))
            let out = String(decoding: (try? FileIO.readAll(fd: mock.stdoutFD!)) ?? [], as: UTF8.self)
            _ = mock.wait()
            child.kill(SIGTERM)
            let exit = child.wait()
            let line = out.split(separator: "\n").first { $0.hasPrefix("RESULT") }.map(String.init) ?? out
            print("neutral mock, round \(round): \(line)")
            print("   runtime process: cpu_us_per_invocation=\(fmt(Double(exit.cpuMicroseconds) / Double(n), 1)) peak_rss_mb=\(fmt(Double(exit.maxRSSKiB) / 1024, 1))")
        } catch {
            print("neutral mock run failed: \(error)")
        }
    }

    static func strippedSize(_ binary: String) -> Int? {
        let out = "/tmp/clerk-bench-stripped-\(getpid())"
        defer { unlink(out) }
        guard let r = try? Subprocess.run(path: "/usr/bin/strip", arguments: ["-o", out, binary], environment: [:]),
              r.exit.code == 0 else { return nil }
        var st = stat()
        return stat(out, &st) == 0 ? Int(st.st_size) : nil
    }
}
