import ArgumentParser
import LambdaRuntime
import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

// `--env-file FILE` may stand anywhere on the line, as it always could: take it out before parsing.
var arguments = Array(CommandLine.arguments.dropFirst())
var envFile: String? = FileIO.exists(".env") ? ".env" : nil
if let i = arguments.firstIndex(of: "--env-file") {
    guard i + 1 < arguments.count else {
        FileIO.write(fd: 2, "Error: --env-file needs a path\n")
        exit(2)
    }
    envFile = arguments[i + 1]
    arguments.removeSubrange(i...(i + 1))
}
if let envFile {
    do {
        try Environment.loadDotEnv(path: envFile)
    } catch {
        FileIO.write(fd: 2, "Error: \(error)\n")
        exit(2)
    }
}
exit(CLI.run(arguments))
