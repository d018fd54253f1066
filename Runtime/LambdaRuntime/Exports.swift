// Handlers log through `Context.logger`, a swift-log `Logger`: importing the runtime brings its type along.
@_exported import Logging
