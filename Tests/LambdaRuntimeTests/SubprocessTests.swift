import LambdaRuntime
import LocalHosting
import RuntimeSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `Subprocess`, which the tests and the developer CLI use to run processes side by side.
final class SubprocessTests: XCTestCase {
    /// The descriptors `/bin/ls` finds open in a child started through `Subprocess` with `stdinBytes`: 0, 1 and 2,
    /// 3 (the listing itself), and whatever else it was given. It reads its input to the end first.
    static func childDescriptors() throws -> String {
        let r = try Subprocess.run(
            path: "/bin/sh", arguments: ["-c", "cat >/dev/null; exec ls /proc/self/fd"],
            environment: ["PATH": "/usr/bin:/bin"], stdinBytes: [0x0A])
        return r.stdout.text.split(separator: "\n").joined(separator: " ")
    }

    /// A child gets its standard streams and nothing else, even descriptors this process holds without
    /// close-on-exec (the test runner's own, say): a child that kept one kept whatever it was, open.
    func testAChildInheritsOnlyItsStandardStreams() throws {
        XCTAssertEqual(try Self.childDescriptors(), "0 1 2 3")
    }

    /// Children started from several threads at once inherit nothing of each other. A pipe another thread had
    /// just made was marked close-on-exec a moment after it was made, and a child started in that moment kept
    /// it: another child's standard input, which then never ended while the keeper ran (two webhook deliveries
    /// started together, one waiting at a test's lock, the other waiting for the end of its input, for good).
    func testChildrenStartedFromManyThreadsAtOnceInheritNothingOfEachOther() throws {
        let alone = try Self.childDescriptors()
        let threads = 4
        let each = 300
        let done = ConditionLock()
        final class Box: @unchecked Sendable {
            var listings: [String] = []
            var finished = 0
        }
        let box = Box()
        for _ in 0..<threads {
            Threads.detach {
                for _ in 0..<each {
                    let listing: String
                    do { listing = try SubprocessTests.childDescriptors() } catch { listing = "error: \(error)" }
                    done.withLock { box.listings.append(listing) }
                }
                done.withLock { box.finished += 1 }
                done.broadcast()
            }
        }
        XCTAssertTrue(done.wait(timeoutMs: 300_000) { box.finished == threads }, "the children did not all end")
        let listings = done.withLock { box.listings }
        XCTAssertEqual(listings.count, threads * each)
        let kept = listings.filter { $0 != alone }
        XCTAssertEqual(kept, [], "\(kept.count) of \(listings.count) children kept another's descriptors (alone: \(alone))")
    }
}
