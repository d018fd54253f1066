import ArgumentParser
import ClerkFunctions
import LambdaRuntime
import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

/// `emulate`: a local Lambda for the shipped bootstrap (Runtime API plus the RIE invoke endpoint).
struct Emulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A local Lambda: a Runtime API for BOOTSTRAP and the invoke endpoint POST /2015-03-31/functions/function/invocations.")

    @Option(help: "The function (_HANDLER).")
    var function = "echo"
    @Option(help: "The Runtime API port.")
    var port = 9001
    @Option(name: .customLong("invoke-port"), help: "The invoke endpoint's port.")
    var invokePort = 8080
    @Option(help: "Seconds before an invocation times out (the process is then restarted).")
    var timeout = 3
    @Option(help: "AWS_LAMBDA_FUNCTION_MEMORY_SIZE, in MB.")
    var memory = 128
    @Argument(parsing: .postTerminator, help: "-- BOOTSTRAP [ARGS]: the executable to run as the function.")
    var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else {
            throw ValidationError("emulate needs the bootstrap to run after --, e.g. emulate --function health -- ./bootstrap")
        }
        for p in [port, invokePort] where !(0...65535).contains(p) { throw ValidationError("ports are 0 to 65535") }
        guard (1...900).contains(timeout) else { throw ValidationError("--timeout is 1 to 900 seconds, as on Lambda") }
        guard (128...10_240).contains(memory) else { throw ValidationError("--memory is 128 to 10240 MB, as on Lambda") }
    }

    func run() throws {
        let env = CLI.environment
        var options = RuntimeEmulator.Options(command: command, function: function, environment: env.values)
        options.runtimePort = port
        options.invokePort = invokePort
        options.timeoutSeconds = timeout
        options.memoryMB = memory
        let emulator = try RuntimeEmulator(options: options, logger: Logger(environment: env))
        FileIO.write(
            fd: 2,
            """
            Runtime API on \(emulator.runtimeEndpoint) for \(command.joined(separator: " ")) (_HANDLER=\(function), timeout \(timeout) s)
            invoke: curl -s -d @events/FILE.json \(emulator.invokeURL)

            """)
        while true { sleep(3600) }
    }
}

/// `serve`: the template's HTTP API on loopback, authorizer first, payload 2.0 events.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve template.yaml's HTTP API on loopback: authorizer first, payload 2.0 events.")

    @Option(help: "The port.")
    var port = 3000
    @Option(help: "The SAM template.")
    var template = "template.yaml"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port is 0 to 65535") }
    }

    func run() throws {
        let env = CLI.environment
        let routes = try SAMTemplate(path: template).routes
        let server = try LocalAPIServer(
            registry: Functions.registry, environment: env, routes: routes,
            port: port, logger: Logger(environment: env), setup: Functions.setup)
        var text = "serving \(template) on \(server.baseURL)\n"
        for r in routes {
            text += "  \(r.method) \(r.path) -> \(r.handler)" + (r.authorizerHandler.map { " (authorizer \($0))" } ?? "") + "\n"
        }
        FileIO.write(fd: 2, text)
        while true { sleep(3600) }
    }
}
