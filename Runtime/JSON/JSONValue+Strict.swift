extension JSONValue {
    /// Reads a document from outside the process with the strict scanner's rules (one spelling, no duplicate
    /// names, bounded nesting, valid UTF-8), without the generic `Decoder`: for one of Clerk's small verify
    /// answers Foundation's decoder cost 27-30 µs, as much as the loopback round trip (bench-machine). One
    /// pass builds the node tree `StrictJSONDecoder` reads (validating as it goes), then the value. Throws
    /// `JSONScanner.Malformed`.
    public static func parseStrict(_ bytes: [UInt8]) throws -> JSONValue {
        try JSONScanner.node(bytes).jsonValue
    }
}
