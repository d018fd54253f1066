import ArgumentParser
import ClerkFunctions
import DevTools
import LambdaRuntime
import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

/// `invoke FUNCTION [--event FILE | -] [--sign] [--mint-token] [--timeout S]`.
struct Invoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one invocation; print the response, or the Lambda error object (exit 1).")

    @Argument(help: "The function to run (see `list`).")
    var function: String

    @Argument(help: ArgumentHelp("`-` reads the event from standard input.", visibility: .hidden))
    var dash: String?

    @Option(name: [.customShort("e"), .long], help: "The event file, or - for standard input (default: stdin when piped, else {}).")
    var event: String?

    @Option(help: "Seconds before the invocation's deadline.")
    var timeout: Int64 = 30

    @Flag(help: "Re-sign the event's body with the configured webhook secret (fresh svix-id and timestamp).")
    var sign = false

    @Flag(name: .customLong("mint-token"), help: "Replace DEV_SESSION_TOKEN[:user_id] with a fresh token signed by CLERK_DEV_KEY.")
    var mintToken = false

    func validate() throws {
        if let dash, dash != "-" { throw ValidationError("unexpected argument '\(dash)'") }
        guard timeout > 0, timeout < 86_400 else { throw ValidationError("--timeout needs a number of seconds") }
    }

    func run() throws {
        let env = CLI.environment
        var bytes: [UInt8]
        if let path = event ?? dash {
            bytes = path == "-" ? try FileIO.readAll(fd: 0, name: "stdin") : try FileIO.read(path)
        } else if isatty(0) == 0 {
            bytes = try FileIO.readAll(fd: 0, name: "stdin")
        } else {
            bytes = Array("{}".utf8)
        }
        if sign { bytes = try WebhookEventBuilder.resign(bytes, signer: WebhookEventBuilder.configuredSigner(env)) }
        if mintToken { bytes = try TokenTools.mintConfigured(into: bytes, env: env) }
        let harness = LocalHarness(registry: Functions.registry, environment: env, setup: Functions.setup)
        do {
            // The response is printed before work scheduled for after it runs, as Lambda delivers it.
            _ = try harness.invoke(function, event: bytes, timeoutMs: timeout * 1000) { response in
                FileIO.write(fd: 1, response + [0x0A])
            }
        } catch {
            FileIO.write(fd: 1, error.errorObject.json + "\n")
            switch error {
            case .unknownFunction, .invalidEventJSON: throw ExitCode(2)
            case .initFailed, .functionError: throw ExitCode(1)
            }
        }
    }
}

/// `list`: the functions and the event shapes they accept.
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the functions and the event shapes they accept.")

    func run() {
        for f in Functions.registry.functions {
            print(f.name.padded(16) + f.summary)
            print(String(repeating: " ", count: 16) + "accepts: " + f.accepts.joined(separator: "; "))
        }
    }
}

extension String {
    func padded(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
