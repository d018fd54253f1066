import ClerkKit
import JSON
import XCTest

@testable import ClerkFunctions

/// Names that differ only in case (or are canonically equivalent) are read in the order of their bytes, so
/// one event reads the same in every process. Before, the order was a Swift dictionary's, which is seeded
/// per process: `FuzzEvents`' strict-reader property gave `2,3,1`, `1,2,3` or `3,1,2` for one document.
final class EventHeaderOrderTests: XCTestCase {
    /// The eight spellings of `abc` by case, in byte order (`ABC` < `ABc` < … < `abc`).
    static let spellings = ["ABC", "ABc", "AbC", "Abc", "aBC", "aBc", "abC", "abc"]

    /// A JSON object of the spellings, written in reverse, the i-th spelling in byte order holding `value(i)`.
    static func members(_ value: (Int) -> String) -> String {
        spellings.enumerated().reversed().map { #""\#($0.element)":\#(value($0.offset))"# }.joined(separator: ",")
    }

    func testRepeatedHeadersJoinInTheOrderOfTheirNames() throws {
        let event = #"{"httpMethod":"GET","headers":{\#(Self.members { #""\#($0)""# })}}"#
        let request = try APIRequest.decode(Array(event.utf8))
        XCTAssertEqual(request.header("abc"), "0,1,2,3,4,5,6,7")
    }

    func testMultiValueHeadersTakeTheLastNameInByteOrder() throws {
        let event = #"{"httpMethod":"GET","multiValueHeaders":{\#(Self.members { #"["\#($0)","x"]"# })}}"#
        let request = try APIRequest.decode(Array(event.utf8))
        XCTAssertEqual(request.header("abc"), "7,x")
    }

    func testQueueHeadersTakeTheLastNameInByteOrder() throws {
        let sqs = #"{"Records":[{"messageId":"m1","body":"{}","messageAttributes":{\#(Self.members { #"{"stringValue":"\#($0)"}"# })}}]}"#
        XCTAssertEqual(try XCTUnwrap(QueueBatch.decode(Array(sqs.utf8))).messages.first?.headers, ["abc": "7"])
        let rmq = #"{"rmqMessagesByQueue":{"q":[{"data":"e30=","basicProperties":{"headers":{\#(Self.members { #""\#($0)""# })}}}]}}"#
        XCTAssertEqual(try XCTUnwrap(QueueBatch.decode(Array(rmq.utf8))).messages.first?.headers, ["abc": "7"])
    }

    /// Queue names Swift calls equal (composed and decomposed `é`) are still two queues, in byte order.
    func testAmazonMQQueuesInTheOrderOfTheirNamesBytes() throws {
        let names = ["q\u{e9}", "qe\u{301}", "Q", "q"]
        let queues = names.map { #""\#($0)":[{"data":"e30="},{"data":"e30="}]"# }.joined(separator: ",")
        let batch = try XCTUnwrap(QueueBatch.decode(Array(#"{"rmqMessagesByQueue":{\#(queues)}}"#.utf8)))
        let ordered = names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        XCTAssertEqual(batch.messages.map(\.id), ordered.flatMap { ["\($0)#0", "\($0)#1"] })
    }
}
