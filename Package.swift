// swift-tools-version:6.0
import PackageDescription

/// clerk-functions: Clerk webhooks, session-token checks and user sync for AWS Lambda, in Swift.
///
/// No Swift package dependencies: the system C libraries (libcurl, libpq, OpenSSL's libcrypto) and the
/// toolchain's FoundationEssentials cover everything, which keeps builds fast and the binary small.
let package = Package(
    name: "clerk-functions",
    products: [
        .executable(name: "clerk-functions", targets: ["clerk-functions"]),
        .library(name: "LambdaRuntime", targets: ["LambdaRuntime"]),
        .library(name: "ClerkFunctions", targets: ["ClerkFunctions"]),
    ],
    targets: [
        // MARK: Runtime: knows Lambda, nothing of Clerk or Postgres.
        // libcurl's headers at build time, the library itself dlopened on first use (see ccurl.h).
        .target(name: "CCurl", path: "Runtime/CCurl", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "LambdaRuntime", dependencies: ["CCurl"], path: "Runtime/LambdaRuntime"),

        // MARK: Functions: the Clerk domain, the store and the handlers.
        .systemLibrary(
            name: "CLibPQ", path: "Functions/CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "COpenSSL", path: "Functions/COpenSSL", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CRabbitMQ", path: "Functions/CRabbitMQ", pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]),
        .target(name: "Messaging", dependencies: ["CRabbitMQ"], path: "Functions/Messaging"),
        .target(name: "ClerkKit", dependencies: ["COpenSSL", "LambdaRuntime"], path: "Functions/ClerkKit"),
        .target(name: "Store", dependencies: ["CLibPQ"], path: "Functions/Store"),
        .target(
            name: "ClerkFunctions", dependencies: ["ClerkKit", "Store", "Messaging", "LambdaRuntime"],
            path: "Functions/ClerkFunctions"),
        .executableTarget(
            name: "clerk-functions", dependencies: ["ClerkFunctions", "LambdaRuntime"],
            path: "Functions/clerk-functions"),

        // MARK: Benchmarks (print figures; never asserted in tests).
        .executableTarget(
            name: "clerk-bench", dependencies: ["LambdaRuntime", "ClerkKit", "ClerkFunctions", "Store", "Messaging"],
            path: "Benchmarks/clerk-bench"),

        // MARK: Tests: real PostgreSQL, real processes, real signatures.
        .target(
            name: "TestSupport", dependencies: ["LambdaRuntime", "Store", "ClerkKit", "Messaging", "ClerkFunctions"],
            path: "Tests/TestSupport"),
        .testTarget(name: "LambdaRuntimeTests", dependencies: ["LambdaRuntime", "TestSupport"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "TestSupport"]),
        .testTarget(name: "ClerkKitTests", dependencies: ["ClerkKit", "TestSupport"]),
        .testTarget(
            name: "ClerkFunctionsTests",
            dependencies: ["ClerkFunctions", "ClerkKit", "Store", "Messaging", "LambdaRuntime", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
