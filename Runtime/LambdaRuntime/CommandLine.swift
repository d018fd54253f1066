#if canImport(Glibc)
import Glibc
#endif

/// A subcommand of the executable beyond the built-in `invoke` and `list` (e.g. `migrate`).
public struct Command: Sendable {
    /// The word that selects it.
    public let name: String
    /// Its arguments, for the usage text.
    public let usage: String
    /// One line for the usage text.
    public let summary: String
    /// Runs it with the arguments after its name; returns the exit code.
    public let run: @Sendable (_ arguments: [String], _ environment: Environment) throws -> Int32

    /// Describes a command.
    public init(name: String, usage: String, summary: String,
                run: @escaping @Sendable ([String], Environment) throws -> Int32) {
        self.name = name
        self.usage = usage
        self.summary = summary
        self.run = run
    }
}

/// An `invoke` flag that rewrites the event before the call (e.g. `--sign` adds fresh webhook signatures).
public struct EventTransform: Sendable {
    /// The flag, e.g. `--sign`.
    public let flag: String
    /// One line for the usage text.
    public let summary: String
    /// Rewrites the event bytes.
    public let apply: @Sendable (_ event: [UInt8], _ function: String, _ environment: Environment) throws -> [UInt8]

    /// Describes a transform.
    public init(flag: String, summary: String,
                apply: @escaping @Sendable ([UInt8], String, Environment) throws -> [UInt8]) {
        self.flag = flag
        self.summary = summary
        self.apply = apply
    }
}

/// A bad command line: the message is printed with the usage text, exit code 2.
public struct UsageError: Error, CustomStringConvertible {
    /// What was wrong.
    public let description: String
    /// Creates the error.
    public init(_ description: String) { self.description = description }
}

/// The executable's entry point: the Lambda host when `AWS_LAMBDA_RUNTIME_API` is set, else the harness CLI.
public enum LambdaMain {
    /// Chooses the host and never returns.
    public static func main(registry: FunctionRegistry, commands: [Command] = [],
                            transforms: [EventTransform] = [], arguments: [String] = CommandLine.arguments) -> Never {
        if Environment.process()["AWS_LAMBDA_RUNTIME_API"] != nil {
            exit(LambdaHost.run(registry: registry, environment: .process()))
        }
        exit(runCLI(registry: registry, commands: commands, transforms: transforms,
                    arguments: Array(arguments.dropFirst())))
    }

    /// Runs the harness CLI; returns the exit code.
    public static func runCLI(registry: FunctionRegistry, commands: [Command], transforms: [EventTransform],
                              arguments: [String]) -> Int32 {
        var args = arguments
        do {
            // --env-file may stand anywhere; the process environment always wins over the file.
            var envFile: String? = FileIO.exists(".env") ? ".env" : nil
            if let i = args.firstIndex(of: "--env-file") {
                guard i + 1 < args.count else { throw UsageError("--env-file needs a path") }
                envFile = args[i + 1]
                args.removeSubrange(i...(i + 1))
            }
            if let envFile { try Environment.loadDotEnv(path: envFile) }
            let env = Environment.process()
            guard let word = args.first else {
                printUsage(registry: registry, commands: commands, transforms: transforms)
                return 2
            }
            let rest = Array(args.dropFirst())
            switch word {
            case "invoke":
                return try invoke(rest, registry: registry, transforms: transforms, env: env)
            case "list":
                for f in registry.functions {
                    print(f.name.padding(16) + f.summary)
                    print(String(repeating: " ", count: 16) + "accepts: " + f.accepts.joined(separator: "; "))
                }
                return 0
            case "serve":
                var port = 3000, template = "template.yaml"
                var j = 0
                while j < rest.count {
                    guard j + 1 < rest.count else { throw UsageError("\(rest[j]) needs a value") }
                    switch rest[j] {
                    case "--port": port = Int(rest[j + 1]) ?? 3000
                    case "--template": template = rest[j + 1]
                    default: throw UsageError("unknown option '\(rest[j])'")
                    }
                    j += 2
                }
                let routes = try SAMTemplate(path: template).routes
                let server = try LocalAPIServer(registry: registry, environment: env, routes: routes, port: port, logger: Logger(environment: env))
                var text = "serving \(template) on \(server.baseURL)\n"
                for r in routes {
                    text += "  \(r.method) \(r.path) -> \(r.handler)" + (r.authorizerHandler.map { " (authorizer \($0))" } ?? "") + "\n"
                }
                FileIO.write(fd: 2, text)
                while true { sleep(3600) }
            case "emulate":
                return try emulate(rest, registry: registry, env: env)
            case "help", "--help", "-h":
                printUsage(registry: registry, commands: commands, transforms: transforms)
                return 0
            default:
                guard let command = commands.first(where: { $0.name == word }) else {
                    throw UsageError("unknown command '\(word)'")
                }
                return try command.run(rest, env)
            }
        } catch let error as UsageError {
            FileIO.write(fd: 2, "error: \(error.description)\n\n")
            printUsage(registry: registry, commands: commands, transforms: transforms, fd: 2)
            return 2
        } catch {
            FileIO.write(fd: 2, "error: \(error)\n")
            return 1
        }
    }

    private static func invoke(_ args: [String], registry: FunctionRegistry, transforms: [EventTransform],
                               env: Environment) throws -> Int32 {
        var function: String?
        var eventPath: String?
        var timeoutMs: Int64 = 30_000
        var active: [EventTransform] = []
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--event" || a == "-e" {
                guard i + 1 < args.count else { throw UsageError("--event needs a file or -") }
                eventPath = args[i + 1]
                i += 2
            } else if a == "--timeout" {
                guard i + 1 < args.count, let s = Int64(args[i + 1]), s > 0 else {
                    throw UsageError("--timeout needs a number of seconds")
                }
                timeoutMs = s * 1000
                i += 2
            } else if a == "-" {
                eventPath = "-"
                i += 1
            } else if let t = transforms.first(where: { $0.flag == a }) {
                active.append(t)
                i += 1
            } else if a.hasPrefix("-") {
                throw UsageError("unknown option '\(a)'")
            } else if function == nil {
                function = a
                i += 1
            } else {
                throw UsageError("unexpected argument '\(a)'")
            }
        }
        guard let function else { throw UsageError("invoke needs a function name (see 'list')") }
        var event: [UInt8]
        if let eventPath {
            event = try FileIO.read(eventPath)
        } else if isatty(0) == 0 {
            event = try FileIO.readAll(fd: 0, name: "stdin")
        } else {
            event = Array("{}".utf8)
        }
        for t in active { event = try t.apply(event, function, env) }
        let harness = LocalHarness(registry: registry, environment: env)
        do {
            var out = try harness.invoke(function, event: event, timeoutMs: timeoutMs)
            out.append(0x0A)
            FileIO.write(fd: 1, out)
            return 0
        } catch {
            FileIO.write(fd: 1, error.errorObject.json + "\n")
            switch error {
            case .unknownFunction, .invalidEventJSON: return 2
            case .initFailed, .functionError: return 1
            }
        }
    }

    private static func emulate(_ args: [String], registry: FunctionRegistry, env: Environment) throws -> Int32 {
        guard let dash = args.firstIndex(of: "--"), dash + 1 < args.count else {
            throw UsageError("emulate needs the bootstrap to run after --, e.g. emulate --function health -- ./bootstrap")
        }
        var o: [String: String] = [:]
        var i = 0
        while i < dash {
            guard args[i].hasPrefix("--"), i + 1 < dash else { throw UsageError("unexpected '\(args[i])'") }
            o[String(args[i].dropFirst(2))] = args[i + 1]
            i += 2
        }
        var options = RuntimeEmulator.Options(command: Array(args[(dash + 1)...]), function: o["function"] ?? "echo",
                                              environment: env.values)
        options.runtimePort = Int(o["port"] ?? "") ?? 9001
        options.invokePort = Int(o["invoke-port"] ?? "") ?? 8080
        options.timeoutSeconds = Int(o["timeout"] ?? "") ?? 3
        options.memoryMB = Int(o["memory"] ?? "") ?? 128
        let emulator = try RuntimeEmulator(options: options, logger: Logger(environment: env))
        FileIO.write(fd: 2, """
            Runtime API on \(emulator.runtimeEndpoint) for \(options.command.joined(separator: " ")) (_HANDLER=\(options.function), timeout \(options.timeoutSeconds) s)
            invoke: curl -s -d @events/FILE.json \(emulator.invokeURL)

            """)
        while true { sleep(3600) }
    }

    private static func printUsage(registry: FunctionRegistry, commands: [Command], transforms: [EventTransform],
                                   fd: Int32 = 1) {
        var text = """
            Usage: clerk-functions [--env-file FILE] COMMAND [ARGS]

            With AWS_LAMBDA_RUNTIME_API set, runs the function named by _HANDLER as a Lambda custom runtime.
            Otherwise a local harness:

              invoke FUNCTION [--event FILE | -] [--timeout S]\(transforms.map { " [\($0.flag)]" }.joined())
                              run one invocation; prints the response, or the Lambda error object (exit 1)
              list            the functions and the event shapes they accept
              serve [--port 3000] [--template template.yaml]
                              the template's HTTP API on loopback: authorizer first, payload 2.0 events
              emulate [--function NAME] [--port 9001] [--invoke-port 8080] [--timeout S] [--memory MB] -- BOOTSTRAP [ARGS]
                              a local Lambda: Runtime API for BOOTSTRAP, and the invoke endpoint
                              POST /2015-03-31/functions/function/invocations (timeouts, crashes, init errors)

            """
        for c in commands { text += "  \(c.name) \(c.usage)\n".padding(0) + "                  \(c.summary)\n" }
        for t in transforms { text += "\n  invoke \(t.flag): \(t.summary)" }
        text += "\n\n--env-file FILE loads variables (default .env when present); the environment wins.\n"
        text += "Functions: \(registry.functions.map(\.name).joined(separator: ", "))\n"
        FileIO.write(fd: fd, text)
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
