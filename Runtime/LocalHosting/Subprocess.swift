import CSpawn
import JSON
import LambdaRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// How a child process ended, with its resource usage.
public struct ProcessExit: Sendable {
    /// The exit code, or 128 + signal number when killed by a signal.
    public var code: Int32
    /// Whether a signal ended it.
    public var signaled: Bool
    /// User plus system CPU time, in microseconds.
    public var cpuMicroseconds: Int64
    /// Peak resident set size, in KiB.
    public var maxRSSKiB: Int64
}

/// Errors from starting a child process.
public enum SubprocessError: Error, CustomStringConvertible {
    case spawnFailed(path: String, errno: Int32)
    /// The pipes to the child could not be made (out of descriptors).
    case pipeFailed(errno: Int32)

    public var description: String {
        switch self {
        case .spawnFailed(let p, let e): "cannot start \(p): \(String(cString: strerror(e)))"
        case .pipeFailed(let e): "cannot make a pipe for a child: \(String(cString: strerror(e)))"
        }
    }
}

/// Child processes via `posix_spawn` (no Foundation `Process`): used by the benchmark, tests and tools.
public final class Subprocess: @unchecked Sendable {
    /// The child's process id.
    public let pid: pid_t
    /// Our end of the child's standard output, when captured.
    public let stdoutFD: Int32?
    /// Our end of the child's standard error, when captured.
    public let stderrFD: Int32?

    /// Starts `path` with `arguments` (without argv[0]) and exactly `environment`.
    /// Standard input is /dev/null unless `stdinBytes` is given; outputs are captured when asked.
    public init(
        path: String, arguments: [String] = [], environment: [String: String],
        stdinBytes: [UInt8]? = nil, captureOutput: Bool = false
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        var inPipe: [Int32] = [-1, -1]
        do {
            if captureOutput {
                try cloexecPipe(&outPipe)
                try cloexecPipe(&errPipe)
            }
            if stdinBytes != nil { try cloexecPipe(&inPipe) }
        } catch {
            for fd in outPipe + errPipe + inPipe where fd >= 0 { close(fd) }
            throw error
        }
        if captureOutput {
            posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
            posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        }
        if stdinBytes != nil {
            posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        // Nothing but its standard streams: not a descriptor another thread opened (or this process was given)
        // without close-on-exec. A child that kept another child's input open kept that input from ending. A C
        // library older than glibc 2.34 cannot say so (ENOSYS): close-on-exec alone covers this type's own pipes.
        let closing = cspawn_addclosefrom(&actions, 3)
        guard closing == 0 || closing == ENOSYS else {
            for fd in outPipe + errPipe + inPipe where fd >= 0 { close(fd) }
            throw SubprocessError.spawnFailed(path: path, errno: closing)
        }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for copy in argv + envp { free(copy) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, nil, argv, envp)
        if captureOutput {
            close(outPipe[1])
            close(errPipe[1])
        }
        if stdinBytes != nil { close(inPipe[0]) }
        guard rc == 0 else { throw SubprocessError.spawnFailed(path: path, errno: rc) }
        pid = child
        stdoutFD = captureOutput ? outPipe[0] : nil
        stderrFD = captureOutput ? errPipe[0] : nil
        if let stdinBytes {
            let fd = inPipe[1]
            Threads.detach {
                FileIO.write(fd: fd, stdinBytes)
                close(fd)
            }
        }
    }

    /// Sends `signal` to the child.
    public func kill(_ signal: Int32 = SIGTERM) { _ = Glibc.kill(pid, signal) }

    /// The child's exit if it has ended, without waiting; nil while it runs. Call once it returned non-nil
    /// no more (the process is reaped).
    public func poll() -> ProcessExit? {
        var status: Int32 = 0
        var usage = rusage()
        guard wait4(pid, &status, WNOHANG, &usage) == pid else { return nil }
        return Self.exit(status, usage)
    }

    private static func exit(_ status: Int32, _ usage: rusage) -> ProcessExit {
        let signaled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
        let code = signaled ? 128 + (status & 0x7f) : (status >> 8) & 0xff
        let cpu =
            (Int64(usage.ru_utime.tv_sec) + Int64(usage.ru_stime.tv_sec)) * 1_000_000
            + Int64(usage.ru_utime.tv_usec) + Int64(usage.ru_stime.tv_usec)
        return ProcessExit(code: code, signaled: signaled, cpuMicroseconds: cpu, maxRSSKiB: Int64(usage.ru_maxrss))
    }

    /// Waits for the child to end and reports its exit and resource usage.
    public func wait() -> ProcessExit {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        return Self.exit(status, usage)
    }

    /// Runs to completion, collecting both outputs.
    public static func run(
        path: String, arguments: [String] = [], environment: [String: String],
        stdinBytes: [UInt8]? = nil
    ) throws -> (exit: ProcessExit, stdout: [UInt8], stderr: [UInt8]) {
        let p = try Subprocess(
            path: path, arguments: arguments, environment: environment,
            stdinBytes: stdinBytes, captureOutput: true)
        let errBox = OutputBox()
        let errFD = p.stderrFD!
        let done = ConditionLock()
        Threads.detach {
            let bytes = (try? FileIO.readAll(fd: errFD)) ?? []
            done.withLock {
                errBox.bytes = bytes
                errBox.finished = true
            }
            done.broadcast()
        }
        let out = (try? FileIO.readAll(fd: p.stdoutFD!)) ?? []
        _ = done.wait { errBox.finished }
        close(p.stdoutFD!)
        close(errFD)
        return (p.wait(), out, errBox.bytes)
    }

    private final class OutputBox: @unchecked Sendable {
        var bytes: [UInt8] = []
        var finished = false
    }
}

/// A pipe whose ends are not inherited by children other than through explicit dup2: close-on-exec from the
/// moment it exists (`pipe2`), since another thread may start a child at any moment (a flag set afterwards,
/// with `fcntl`, let a child started in between keep both ends).
private func cloexecPipe(_ fds: inout [Int32]) throws {
    let rc = fds.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { cspawn_pipe_cloexec($0) } ?? -1 }
    guard rc == 0 else { throw SubprocessError.pipeFailed(errno: errno) }
}
