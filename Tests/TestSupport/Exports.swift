// What every integration test uses, besides the store's own support (which links no handler).
@_exported import ClerkKitTestSupport
@_exported import ClerkStandIn
@_exported import DevTools
@_exported import RuntimeSupport
@_exported import StoreTestSupport
