import JSON
import LambdaRuntime
import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

/// `bench-coldstart`: exec-to-first-response of the packaged bootstrap, unpacked alone into an empty root
/// and run under chroot (as Lambda unpacks it at /var/task), median of 20 cold starts, with and without a
/// database connection at init; and the zip's size. The floor, in the same root under the same chroot and
/// interleaved run by run: the bare C libcurl loop (Benchmarks/curl-floor) on the package's own libraries,
/// and for `health` the same loop with a libpq connection at init and `SELECT 1` per event. Every cold start
/// must answer its first event as expected (the echo, `health`'s 200 `ok`); one that does not ends the run.
enum ColdStartBenchmark {
    /// One kind of cold start: which program, its environment and event, and what its answer must be.
    struct Variant {
        var label: String
        var program: String
        var env: [String: String]
        var event: [UInt8]
        var expected: ([UInt8]) -> Bool
    }

    static func run(_ options: BenchOptions) {
        let zip = options.string("zip", ".build/lambda/\(machine())/function.zip")
        let runs = options.int("runs", 20)
        let floor = options.string("floor", ".build/bench/curl_loop")
        let floorPQ = options.string("floor-pq", ".build/bench/curl_pq_loop")
        guard FileIO.exists(zip), FileIO.exists(floor), FileIO.exists(floorPQ) else {
            print("missing \(FileIO.exists(zip) ? "\(floor) or \(floorPQ): run through `make bench-coldstart`" : "\(zip): run `make package` first")")
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
        let unzipped = try? Subprocess.run(path: "/usr/bin/unzip", arguments: ["-q", zip, "-d", root + "/var/task"], environment: [:])
        Tally.expect("coldstart package unpacked", unzipped?.exit.code == 0, "unzip failed")
        stageFloor(floor, as: "curl_loop", root: root)
        stageFloor(floorPQ, as: "curl_pq_loop", root: root)
        let seb = Array("\"Seb\"".utf8)
        let empty = Array("{}".utf8)
        compare(
            root: root, runs: runs,
            ours: Variant(label: "echo (no database)", program: "bootstrap", env: ["_HANDLER": "echo"], event: seb) { $0 == seb },
            floor: Variant(label: "C libcurl loop", program: "curl_loop", env: [:], event: seb) { $0 == seb }, name: "echo")
        guard let db = Environment.process()["CLERK_PG_TCP_URL"] else {
            print("  health: CLERK_PG_TCP_URL is not set (make bench-coldstart provides it)")
            exit(1)
        }
        compare(
            root: root, runs: runs,
            ours: Variant(
                label: "health (PostgreSQL connection at init, loopback TCP)", program: "bootstrap",
                env: ["_HANDLER": "health", "DATABASE_URL": db], event: empty, expected: healthy),
            floor: Variant(
                label: "C libcurl loop + libpq connect at init, SELECT 1", program: "curl_pq_loop",
                env: ["DATABASE_URL": db], event: empty
            ) { $0 == empty }, name: "health")
    }

    /// `health`'s answer when PostgreSQL answered: HTTP 200, `status` and `database` both `ok`.
    static func healthy(_ out: [UInt8]) -> Bool {
        guard let answer = APIAnswer(out), answer.status == 200 else { return false }
        return answer.body["status"]?.stringValue == "ok" && answer.body["database"]?.stringValue == "ok"
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

    /// Cold starts of `ours` and `floor`, alternating run by run so drift in the machine's load touches both;
    /// prints each one's medians, and the ratio of the first-response medians.
    static func compare(root: String, runs: Int, ours: Variant, floor: Variant, name: String) {
        var times: [[(next: Double, response: Double)]] = [[], []]
        var tallies = [Tally("coldstart \(name) bootstrap first responses as expected"), Tally("coldstart \(name) floor first responses as expected")]
        for _ in 0..<runs {
            for (i, variant) in [ours, floor].enumerated() {
                switch once(variant, root: root) {
                case .success(let t):
                    tallies[i].pass()
                    times[i].append(t)
                case .failure(let why):
                    tallies[i].fail(why.reason)
                }
            }
        }
        tallies[0].require(runs)
        tallies[1].require(runs)
        func median(_ v: [Double]) -> Double {
            let s = v.sorted()
            return s[s.count / 2]
        }
        let medians = times.map { (next: median($0.map(\.next)), response: median($0.map(\.response))) }
        for (i, variant) in [ours, floor].enumerated() {
            let responses = times[i].map(\.response)
            print(
                "  \(variant.label): exec-to-first-next median \(fmt(medians[i].next, 2)) ms, exec-to-first-response median "
                    + "\(fmt(medians[i].response, 2)) ms (min \(fmt(responses.min() ?? 0, 2)), max \(fmt(responses.max() ?? 0, 2)))")
        }
        print(
            "RESULT coldstart \(name) first_response_ms_median=\(fmt(medians[0].response, 2)) first_next_ms_median=\(fmt(medians[0].next, 2)) "
                + "floor_first_response_ms_median=\(fmt(medians[1].response, 2)) floor_first_next_ms_median=\(fmt(medians[1].next, 2))")
        print(
            "RATIO coldstart \(name) first_response bootstrap/floor=\(fmt(medians[0].response / medians[1].response, 2)) "
                + "first_next bootstrap/floor=\(fmt(medians[0].next / medians[1].next, 2))")
    }

    /// Why one cold start did not count.
    struct Failure: Error {
        var reason: String
    }

    /// One cold start of `variant` under chroot: exec to its first `next`, and to its first response, in ms.
    static func once(_ variant: Variant, root: String) -> Result<(next: Double, response: Double), Failure> {
        guard let api = try? LocalRuntimeAPI() else { return .failure(Failure(reason: "no Runtime API")) }
        defer { api.stop() }
        let id = api.enqueue(variant.event)
        var all = ["AWS_LAMBDA_RUNTIME_API": api.endpoint, "AWS_LAMBDA_LOG_LEVEL": "error", "LAMBDA_TASK_ROOT": "/var/task"]
        for (k, v) in variant.env { all[k] = v }
        let start = wallNs()
        guard let p = try? Subprocess(path: "/usr/sbin/chroot", arguments: [root, "/var/task/" + variant.program], environment: all) else {
            return .failure(Failure(reason: "chroot did not start"))
        }
        let outcome = api.outcome(of: id, timeoutMs: 10_000)
        let done = wallNs()
        p.kill(SIGKILL)
        _ = p.wait()
        guard let outcome else { return .failure(Failure(reason: "no answer")) }
        guard !outcome.isError else { return .failure(Failure(reason: "error \(outcome.errorType ?? "")")) }
        guard variant.expected(outcome.body) else { return .failure(Failure(reason: "unexpected answer")) }
        return .success((Double(api.firstNextWallNs - start) / 1e6, Double(done - start) / 1e6))
    }
}
