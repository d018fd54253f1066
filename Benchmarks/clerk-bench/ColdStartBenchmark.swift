import JSON
import LocalHosting
import LambdaRuntime
#if canImport(Glibc)
import Glibc
#endif

/// `bench-coldstart`: exec-to-first-response of the packaged bootstrap, unpacked alone into an empty root
/// and run under chroot (as Lambda unpacks it at /var/task), median of 20 cold starts, with and without a
/// database connection at init; and the zip's size.
enum ColdStartBenchmark {
    static func run(_ options: BenchOptions) {
        let zip = options.string("zip", ".build/lambda/\(machine())/function.zip")
        let runs = options.int("runs", 20)
        guard FileIO.exists(zip) else {
            print("no package at \(zip): run `make package` first")
            exit(1)
        }
        var st = stat()
        stat(zip, &st)
        print("cold start of \(zip) (\(fmt(Double(st.st_size) / 1_048_576, 2)) MB), \(runs) runs each, under chroot in an empty root")
        var template = Array("/tmp/clerk-coldstart-XXXXXX".utf8CString)
        let root = String(cString: mkdtemp(&template)!)
        defer { _ = try? Subprocess.run(path: "/bin/rm", arguments: ["-rf", root], environment: [:]) }
        mkdir(root + "/var", 0o755)
        mkdir(root + "/var/task", 0o755)
        _ = try? Subprocess.run(path: "/usr/bin/unzip", arguments: ["-q", zip, "-d", root + "/var/task"], environment: [:])
        let db = Environment.process()["CLERK_PG_TCP_URL"]
        measure("echo (no database)", root: root, runs: runs, env: ["_HANDLER": "echo"], event: Array("\"Seb\"".utf8))
        if let db {
            measure("health (PostgreSQL connection at init, loopback TCP)", root: root, runs: runs,
                    env: ["_HANDLER": "health", "DATABASE_URL": db], event: Array("{}".utf8))
        } else {
            print("  health: CLERK_PG_TCP_URL is not set (make bench-coldstart provides it)")
        }
    }

    static func machine() -> String {
        var u = utsname()
        uname(&u)
        let name = withUnsafeBytes(of: u.machine) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        return name == "aarch64" ? "arm64" : name  // Lambda's name, as scripts/package.sh uses
    }

    static func wallNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    static func measure(_ label: String, root: String, runs: Int, env: [String: String], event: [UInt8]) {
        var firstNext: [Double] = [], firstResponse: [Double] = []
        for _ in 0..<runs {
            guard let api = try? LocalRuntimeAPI() else { continue }
            let id = api.enqueue(event)
            var all = ["AWS_LAMBDA_RUNTIME_API": api.endpoint, "AWS_LAMBDA_LOG_LEVEL": "error", "LAMBDA_TASK_ROOT": "/var/task"]
            for (k, v) in env { all[k] = v }
            let start = wallNs()
            guard let p = try? Subprocess(path: "/usr/sbin/chroot", arguments: [root, "/var/task/bootstrap"], environment: all) else { continue }
            let outcome = api.outcome(of: id, timeoutMs: 10_000)
            let done = wallNs()
            p.kill(SIGKILL)
            _ = p.wait()
            guard let outcome, !outcome.isError else {
                print("  \(label): a run failed: \(outcome.map { $0.body.text } ?? "no answer")")
                continue
            }
            firstNext.append(Double(api.firstNextWallNs - start) / 1e6)
            firstResponse.append(Double(done - start) / 1e6)
        }
        guard !firstResponse.isEmpty else { return }
        func median(_ v: [Double]) -> Double { let s = v.sorted(); return s[s.count / 2] }
        print("  \(label): exec-to-first-next median \(fmt(median(firstNext), 2)) ms, exec-to-first-response median \(fmt(median(firstResponse), 2)) ms (min \(fmt(firstResponse.min()!, 2)), max \(fmt(firstResponse.max()!, 2)))")
        print("RESULT coldstart \(env["_HANDLER"] ?? "") first_response_ms_median=\(fmt(median(firstResponse), 2)) first_next_ms_median=\(fmt(median(firstNext), 2))")
    }
}
