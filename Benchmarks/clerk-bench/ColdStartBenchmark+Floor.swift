import LocalHosting

#if canImport(Glibc)
    import Glibc
#endif

extension ColdStartBenchmark {
    /// Puts a floor program into the unpacked package as `package.sh` puts `bootstrap` there: stripped, its
    /// loader and RPATH the package's /var/task/lib, so it starts on the same libraries from the same root.
    /// A library the package does not hold (none expected: the floor links a subset of what `bootstrap`
    /// links) is copied in and named.
    static func stageFloor(_ program: String, as name: String, root: String) {
        let lib = root + "/var/task/lib"
        let target = root + "/var/task/" + name
        func run(_ path: String, _ arguments: [String]) -> (exit: ProcessExit, stdout: [UInt8], stderr: [UInt8])? {
            try? Subprocess.run(path: path, arguments: arguments, environment: ["PATH": "/usr/bin:/bin"])
        }
        let loaders = (run("/bin/ls", [lib])?.stdout.text ?? "").split(separator: "\n").filter { $0.hasPrefix("ld-linux") }.map(String.init)
        guard let loader = loaders.first, run("/usr/bin/strip", ["-o", target, program])?.exit.code == 0 else {
            Tally.abort("CHECK coldstart floor \(name) staged FAILED", "\(name): could not stage the floor into the package's root")
        }
        let ldd = run("/usr/bin/ldd", [program])?.stdout.text ?? ""
        for line in ldd.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard let arrow = parts.firstIndex(of: "=>"), arrow + 1 < parts.count, parts[arrow + 1].hasPrefix("/") else { continue }
            let needed = String(parts[arrow + 1])
            let base = String(needed.split(separator: "/").last ?? "")
            if !FileIO.exists(lib + "/" + base) {
                print("  (floor \(name): \(base) is not in the package; copied in)")
                _ = run("/bin/cp", ["-L", needed, lib + "/" + base])
            }
        }
        let patched = run(
            "/usr/bin/patchelf", ["--set-interpreter", "/var/task/lib/" + loader, "--force-rpath", "--set-rpath", "/var/task/lib", target])
        Tally.expect("coldstart floor \(name) staged in the package's root", patched?.exit.code == 0, "patchelf failed")
    }
}
