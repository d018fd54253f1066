// swift-tools-version:6.0
import PackageDescription

/// clerk-functions: Clerk webhooks, session-token checks and user sync for AWS Lambda, in Swift.
///
/// System C libraries (libcurl, libpq, OpenSSL's libcrypto, rabbitmq-c) through thin wrappers, and three
/// Swift packages where the ecosystem has a well-kept one: swift-log (the `Logger` handlers receive),
/// swift-argument-parser (the developer CLI) and Yams (reading `template.yaml`). Only swift-log reaches
/// the shipped `bootstrap`.
let package = Package(
    name: "clerk-functions",
    products: [
        .executable(name: "bootstrap", targets: ["bootstrap"]),
        .executable(name: "clerk-functions", targets: ["clerk-functions"]),
        .library(name: "LambdaRuntime", targets: ["LambdaRuntime"]),
        .library(name: "ClerkFunctions", targets: ["ClerkFunctions"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0")
    ],
    targets: [
        // MARK: Runtime: knows Lambda and HTTP, nothing of Clerk or PostgreSQL.
        .target(name: "CCurl", path: "Runtime/CCurl", linkerSettings: [.linkedLibrary("curl")]),
        .target(name: "HTTPClient", dependencies: ["CCurl"], path: "Runtime/HTTPClient"),
        .target(name: "JSON", path: "Runtime/JSON"),
        .target(
            name: "LambdaRuntime",
            dependencies: ["HTTPClient", "JSON", .product(name: "Logging", package: "swift-log")],
            path: "Runtime/LambdaRuntime"),
        // Developer tools: never linked into `bootstrap`.
        .target(name: "CSpawn", path: "Runtime/CSpawn"),
        .target(
            name: "LocalHosting",
            dependencies: ["LambdaRuntime", "HTTPClient", "JSON", "CSpawn", .product(name: "Yams", package: "Yams")],
            path: "Runtime/LocalHosting"),

        // MARK: Functions: the Clerk domain, the store, the brokers and the handlers.
        .systemLibrary(
            name: "CLibPQ", path: "Functions/CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "COpenSSL", path: "Functions/COpenSSL", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CRabbitMQ", path: "Functions/CRabbitMQ", pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]),
        .systemLibrary(
            name: "CKafka", path: "Functions/CKafka", pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]),
        .target(name: "Messaging", dependencies: ["CRabbitMQ", "CKafka"], path: "Functions/Messaging"),
        .target(
            name: "ClerkKit",
            dependencies: ["COpenSSL", "HTTPClient", "JSON", .product(name: "Logging", package: "swift-log")],
            path: "Functions/ClerkKit"),
        .target(name: "Store", dependencies: ["CLibPQ"], path: "Functions/Store"),
        // Secret values from AWS Secrets Manager / SSM Parameter Store, read before init and refreshed warm.
        .target(name: "Secrets", dependencies: ["LambdaRuntime", "HTTPClient", "JSON"], path: "Functions/Secrets"),
        .target(
            name: "ClerkFunctions", dependencies: ["ClerkKit", "Store", "Messaging", "Secrets", "LambdaRuntime", "JSON", "HTTPClient"],
            path: "Functions/ClerkFunctions"),
        // Development keys and signed sample events: for the CLI, the benchmarks and the tests, never `bootstrap`.
        .target(
            name: "DevTools", dependencies: ["ClerkKit", "COpenSSL", "JSON", "LambdaRuntime"],
            path: "Functions/DevTools"),
        // What the Lambda zip ships: the registry and the Lambda host, nothing local.
        .executableTarget(
            name: "bootstrap", dependencies: ["ClerkFunctions", "LambdaRuntime"], path: "Functions/bootstrap",
            exclude: ["bootstrap.order"]),
        // The developer CLI: invoke, list, migrate, sign-webhook, sign-token, dev-keys, emulate, serve.
        .executableTarget(
            name: "clerk-functions",
            dependencies: [
                "ClerkFunctions", "ClerkKit", "DevTools", "Store", "LambdaRuntime", "LocalHosting", "JSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ],
            path: "Functions/clerk-functions"),

        // MARK: Benchmarks (print figures; never asserted in tests).
        .executableTarget(
            name: "clerk-bench",
            dependencies: [
                "LambdaRuntime", "LocalHosting", "JSON", "HTTPClient", "ClerkKit", "ClerkFunctions", "Store", "Messaging",
                "ClerkStandIn", "DevTools"
            ],
            path: "Benchmarks/clerk-bench"),

        // MARK: Tests: real PostgreSQL, real processes, real signatures.
        // RuntimeSupport knows nothing of Clerk or PostgreSQL; TestSupport builds on it for the functions.
        .target(name: "RuntimeSupport", dependencies: ["LambdaRuntime", "LocalHosting", "JSON"], path: "Tests/RuntimeSupport"),
        // Stand-ins of Clerk's services on loopback, for the tests and the benchmarks.
        .target(name: "ClerkStandIn", dependencies: ["LambdaRuntime", "LocalHosting", "JSON"], path: "Tests/ClerkStandIn"),
        .target(
            name: "TestSupport",
            dependencies: [
                "RuntimeSupport", "StoreTestSupport", "ClerkKitTestSupport", "ClerkStandIn", "LambdaRuntime", "LocalHosting", "JSON", "HTTPClient",
                "Store", "ClerkKit",
                "Messaging", "CKafka", "ClerkFunctions", "DevTools"
            ],
            path: "Tests/TestSupport"),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient", "CCurl"]),
        .testTarget(name: "LambdaRuntimeTests", dependencies: ["LambdaRuntime", "LocalHosting", "HTTPClient", "JSON", "RuntimeSupport"]),
        .testTarget(name: "SecretsTests", dependencies: ["Secrets", "LambdaRuntime", "JSON", "TestSupport"]),
        .target(
            name: "StoreTestSupport", dependencies: ["Store", "LambdaRuntime", "LocalHosting", "JSON", "RuntimeSupport"],
            path: "Tests/StoreTestSupport"),
        .testTarget(name: "StoreTests", dependencies: ["Store", "StoreTestSupport", "LambdaRuntime", "LocalHosting", "JSON"]),
        .target(
            name: "ClerkKitTestSupport", dependencies: ["ClerkKit", "DevTools", "JSON", "LambdaRuntime", "LocalHosting"],
            path: "Tests/ClerkKitTestSupport"),
        .testTarget(
            name: "ClerkKitTests",
            dependencies: [
                "ClerkKit", "JSON", "HTTPClient", "LambdaRuntime", "LocalHosting", "DevTools", "ClerkStandIn",
                "ClerkKitTestSupport", "RuntimeSupport"
            ]),
        // The publishers and their rules alone (RabbitMQ ones against the private node); the relay through them is in ClerkFunctionsTests.
        .testTarget(name: "MessagingTests", dependencies: ["Messaging"]),
        // `serve` drives the real functions (registry, database, signed webhooks, tokens): TestSupport's fixtures
        // and ClerkFunctions until LocalAPIServer has a stand-in function registry of its own.
        .testTarget(
            name: "LocalHostingTests",
            dependencies: ["LocalHosting", "LambdaRuntime", "HTTPClient", "JSON", "ClerkFunctions", "ClerkKit", "TestSupport"]),
        .testTarget(
            name: "DeploymentTests",
            dependencies: [
                "ClerkFunctions", "ClerkKit", "Messaging", "LambdaRuntime", "LocalHosting", "JSON", "TestSupport",
                .product(name: "Yams", package: "Yams")
            ]),
        .testTarget(
            name: "ClerkFunctionsUnitTests",
            dependencies: [
                "ClerkFunctions", "ClerkKit", "Store", "LambdaRuntime", "JSON", "DevTools",
                .product(name: "Logging", package: "swift-log")
            ]),
        .testTarget(
            name: "ClerkFunctionsTests",
            dependencies: [
                "ClerkFunctions", "ClerkKit", "Store", "Messaging", "LambdaRuntime", "LocalHosting", "JSON", "HTTPClient", "TestSupport",
                .product(name: "Yams", package: "Yams")
            ])
    ],
    swiftLanguageModes: [.v6]
)

// MARK: Fuzzing (libFuzzer): declared only when CLERK_FUZZ is set, so normal builds never see them.
// scripts/fuzz.sh builds them with -sanitize=fuzzer,address into .build-fuzz/.
if Context.environment["CLERK_FUZZ"] != nil {
    let fuzzTargets: [(String, [Target.Dependency])] = [
        ("FuzzJSON", ["JSON"]),
        ("FuzzToken", ["ClerkKit", "DevTools", .product(name: "Logging", package: "swift-log")]),
        ("FuzzWebhook", ["ClerkKit", "COpenSSL"]),
        ("FuzzEvents", ["ClerkFunctions", "ClerkKit", "Store"]),
        ("FuzzHTTPRequest", ["LocalHosting"]),
        ("FuzzClerkPayloads", ["ClerkFunctions", "ClerkKit", "JSON"]),
        ("FuzzOrgClaims", ["ClerkKit", "JSON"])
    ]
    package.targets.append(.target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"))
    for (name, dependencies) in fuzzTargets {
        package.targets.append(.executableTarget(name: name, dependencies: dependencies + ["FuzzSupport"], path: "Fuzz/\(name)"))
        package.products.append(.executable(name: name, targets: [name]))
    }
}
