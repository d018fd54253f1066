import CCurl

/// Request header lines built once into libcurl's list and reused for every request that sends them (the
/// Runtime API loop posts every result with the same two).
public final class HTTPHeaderList {
    let pointer: UnsafeMutablePointer<curl_slist>?

    /// Builds the list from `lines` (`Name: value`; `Name:` alone removes a header libcurl would add).
    public init(_ lines: [String]) { pointer = Self.build(lines) }

    deinit { curl_slist_free_all(pointer) }

    /// A bare list for one request; the caller frees it with `curl_slist_free_all`.
    static func build(_ lines: [String]) -> UnsafeMutablePointer<curl_slist>? {
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for line in lines { list = curl_slist_append(list, line) }
        return list
    }
}
