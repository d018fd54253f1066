/// A value `CompactJSONEncoder` has built, written out once encoding finishes (object keys are sorted only
/// then, and a `superEncoder`'s value is known only then). Objects and arrays are references so that
/// nested containers can keep filling them after they are linked into their parent.
enum EncodedJSON {
    case null
    case bool(Bool)
    /// The number's JSON text.
    case number(String)
    case string(String)
    case object(EncodedJSONObject)
    case array(EncodedJSONArray)
    /// What a `superEncoder` holds when the document is written (`{}` if it encoded nothing).
    case deferred(JSONTreeEncoder)
}

/// An object under construction; a name is its UTF-8 bytes (two keys Swift calls equal are two members).
final class EncodedJSONObject {
    var members: [JSONName: EncodedJSON] = [:]
}

/// An array under construction.
final class EncodedJSONArray {
    var items: [EncodedJSON] = []
}
