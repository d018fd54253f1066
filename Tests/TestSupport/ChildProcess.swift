import JSON
import LambdaRuntime
import LocalHosting
import RuntimeSupport

/// A child process (by default `clerk-functions`) started now, run on a thread of its own that reads its
/// output as it comes, so a full pipe never stalls it. A failure to start it is kept and thrown by
/// `result`, never turned into an empty answer that an assertion could pass on.
public final class ChildProcess: @unchecked Sendable {
    /// What a finished process left.
    public typealias Output = (exit: ProcessExit, stdout: [UInt8], stderr: [UInt8])

    private let done = ConditionLock()
    private var outcome: Result<Output, any Error>?

    /// Starts `path` with `arguments`, `environment` (as given: see `childEnvironment`) and `stdin`.
    public init(
        path: String = BuiltProducts.clerkFunctions, _ arguments: [String], environment: [String: String],
        stdin: [UInt8]? = nil
    ) {
        Threads.detach { [self] in
            let r = Result { try Subprocess.run(path: path, arguments: arguments, environment: environment, stdinBytes: stdin) }
            done.withLock { outcome = r }
            done.broadcast()
        }
    }

    /// `clerk-functions invoke FUNCTION --event -` with `event` on its standard input.
    public convenience init(invoke function: String, event: [UInt8], environment: [String: String]) {
        self.init(["invoke", function, "--event", "-"], environment: environment, stdin: event)
    }

    /// Whether it has ended.
    public var isFinished: Bool { done.withLock { outcome != nil } }

    /// Its exit and output, once it ended; throws when it could not start, or did not end within `timeoutMs`
    /// (a bound on a hang, not a timing assertion).
    public func result(timeoutMs: Int64 = 120_000) throws -> Output {
        guard done.wait(timeoutMs: timeoutMs, until: { outcome != nil }) else { throw ChildProcessError.didNotEnd(timeoutMs: timeoutMs) }
        guard let outcome = done.withLock({ outcome }) else { throw ChildProcessError.didNotEnd(timeoutMs: timeoutMs) }
        return try outcome.get()
    }

    /// An API Gateway answer printed by `invoke`: its exit code, HTTP status, parsed body and log.
    public func answer(timeoutMs: Int64 = 120_000) throws -> (exit: Int32, status: Int, body: JSONValue, logs: String) {
        let r = try result(timeoutMs: timeoutMs)
        let response = try JSONValue.parse(r.stdout)
        let body = try JSONValue.parse(Array((response["body"]?.stringValue ?? "null").utf8))
        return (r.exit.code, Int(response["statusCode"]?.doubleValue ?? -1), body, r.stderr.text)
    }
}

/// A child process that did not end in time.
public enum ChildProcessError: Error, CustomStringConvertible {
    case didNotEnd(timeoutMs: Int64)
    public var description: String {
        switch self {
        case .didNotEnd(let ms): "the child process did not end within \(ms) ms"
        }
    }
}
