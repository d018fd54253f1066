import ArgumentParser
import LambdaRuntime
import LocalHosting

/// The developer CLI: runs the functions locally, signs events and tokens, emulates Lambda, serves the API.
///
/// Exit codes: 0 success, 1 a function or init error (the Lambda error object is on stdout), 2 a bad
/// command line, a non-JSON event or an unknown function.
struct CLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clerk-functions",
        abstract: "Run clerk-functions locally: invoke, sign, emulate, serve.",
        discussion: """
            `--env-file FILE` (anywhere on the line) loads variables from FILE (default: .env when present); \
            variables already in the environment win. The Lambda entry point is the separate `bootstrap` executable.
            """,
        subcommands: [
            Invoke.self, List.self, Migrate.self, BackfillCommand.self, OutboxCommand.self, SignWebhook.self, SignToken.self, DevKeys.self,
            Emulate.self, Serve.self
        ])

    /// Parses and runs; returns the exit code instead of exiting, so the mapping to 0/1/2 lives in one place.
    static func run(_ arguments: [String]) -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            return 0
        } catch let code as ExitCode {
            return code.rawValue
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                print(message)
                return 0
            }
            FileIO.write(fd: 2, message + "\n")
            // argument-parser's usage failures are EX_USAGE (64); this tool has always said 2.
            return code == .validationFailure ? 2 : code.rawValue
        }
    }

    /// The process environment after `--env-file`.
    static var environment: Environment { .process() }
}
