import ClerkFunctions
import LambdaRuntime

LambdaMain.main(registry: Functions.registry, commands: Commands.all, transforms: Commands.transforms)
