import Foundation
import XCTest

@testable import HTTPClient

/// The libcurl client: its one CA bundle list, its header lists, and what a peer that is not there gives.
final class HTTPClientTests: XCTestCase {
    func testAConfiguredBundleWinsAndOtherwiseTheFirstSystemPathFound() throws {
        XCTAssertEqual(CABundle.path(explicit: "/custom/ca.pem"), "/custom/ca.pem")
        let found = CABundle.path(explicit: nil)
        if let found {
            XCTAssertTrue(CABundle.systemPaths.contains(found), found)
            XCTAssertTrue(FileManager.default.isReadableFile(atPath: found), found)
        } else {
            XCTAssertFalse(CABundle.systemPaths.contains { FileManager.default.isReadableFile(atPath: $0) })
        }
        XCTAssertEqual(CABundle.path(explicit: ""), found, "an empty setting is no setting")
    }

    func testAPeerThatIsNotThereIsATransportErrorNotATimeout() throws {
        let client = try HTTPClient()
        // Port 9 (discard) on loopback: nothing listens in the test environment.
        XCTAssertThrowsError(try client.send(method: "GET", url: "http://127.0.0.1:9/", timeoutMs: 2000, connectTimeoutMs: 1000)) {
            error in
            let curl = try? XCTUnwrap(error as? CurlError)
            XCTAssertEqual(curl?.isTimeout, false, "\(error)")
        }
    }

    func testHeaderListsAreBuiltOnceAndKeepEveryLine() {
        let list = HTTPHeaderList(["Expect:", "Content-Type: application/json"])
        var lines: [String] = []
        var node = list.pointer
        while let n = node {
            lines.append(String(cString: n.pointee.data))
            node = n.pointee.next
        }
        XCTAssertEqual(lines, ["Expect:", "Content-Type: application/json"])
    }
}
