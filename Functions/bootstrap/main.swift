import ClerkFunctions
import LambdaRuntime

#if canImport(Glibc)
    import Glibc
#endif

// The Lambda entry point: `_HANDLER` names the function, `AWS_LAMBDA_RUNTIME_API` the Runtime API.
exit(LambdaHost.run(registry: Functions.registry, environment: .process(), setup: Functions.setup))
