import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

/// What the iterations of one timed section answered. Every iteration is counted as the answer it should
/// give or as a failure with its reason; `require` prints the counts and ends the run (exit status 1) when
/// any iteration failed, before the section's figure is printed, so a broken path is never reported as a
/// fast one.
struct Tally {
    let label: String
    private(set) var passed = 0
    private(set) var failures: [String: Int] = [:]

    init(_ label: String) { self.label = label }

    var failed: Int { failures.values.reduce(0, +) }

    mutating func pass() { passed += 1 }

    mutating func fail(_ reason: String) { failures[reason, default: 0] += 1 }

    /// Counts `ok` as a pass, else a failure for `reason` (built only when it failed).
    mutating func record(_ ok: Bool, else reason: @autoclosure () -> String) {
        if ok { passed += 1 } else { fail(reason()) }
    }

    /// Prints `CHECK <label> passed=<passed>/<expected>`; ends the run when any iteration failed or fewer
    /// than `expected` passed.
    func require(_ expected: Int) {
        let reasons = failures.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        if failed == 0 && passed == expected {
            print("CHECK \(label) passed=\(passed)/\(expected)")
            return
        }
        let why = failed > 0 ? reasons : "\(expected - passed) missing"
        Tally.abort(
            "CHECK \(label) passed=\(passed)/\(expected) FAILED (\(why))",
            "\(label): \(passed) of \(expected) iterations gave the expected answer (\(why))")
    }

    /// A single count that must come out as `expected` (rows stored, messages on a queue, calls received).
    static func expect(_ label: String, _ actual: Int, _ expected: Int) {
        if actual == expected {
            print("CHECK \(label) \(actual)/\(expected)")
        } else {
            abort("CHECK \(label) \(actual)/\(expected) FAILED", "\(label): \(actual), expected \(expected)")
        }
    }

    /// A condition that must hold, named by `label`, with `detail` saying what was seen when it does not.
    static func expect(_ label: String, _ holds: Bool, _ detail: @autoclosure () -> String) {
        if holds {
            print("CHECK \(label) ok")
        } else {
            abort("CHECK \(label) FAILED (\(detail()))", "\(label): \(detail())")
        }
    }

    /// Prints the failed check on standard output and the reason on standard error, then exits 1.
    static func abort(_ line: String, _ message: String) -> Never {
        print(line)
        FileIO.write(fd: 2, "clerk-bench: \(message); a benchmark that timed wrong answers reports no figure\n")
        exit(1)
    }
}
