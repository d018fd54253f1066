import Store
import XCTest

/// `PostgresUUID`: the one spelling it writes, the spellings it reads, and what it refuses.
final class PostgresUUIDTests: XCTestCase {
    func testReadsEitherCaseAndWritesLowercase() throws {
        let id = try XCTUnwrap(PostgresUUID(uuidString: "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"))
        XCTAssertEqual(id.uuidString, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
        XCTAssertEqual(id.bytes.count, 16)
        XCTAssertEqual(PostgresUUID(uuidString: id.uuidString), id)
        XCTAssertEqual(PostgresUUID(postgresText: id.postgresText), id)
    }

    func testRefusesEverythingElse() {
        for text in [
            "", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f00",
            "0f1e2d3c_4b5a-6978-8796-a5b4c3d2e1f0", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fg", "{0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1}",
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f\u{e9}"
        ] {
            XCTAssertNil(PostgresUUID(uuidString: text), text)
        }
    }

    func testRandomIsVersion4AndVariant1() {
        var seen = Set<PostgresUUID>()
        for _ in 0..<100 {
            let id = PostgresUUID.random()
            XCTAssertEqual(id.bytes[6] >> 4, 4)
            XCTAssertEqual(id.bytes[8] >> 6, 2)
            seen.insert(id)
        }
        XCTAssertEqual(seen.count, 100)
    }
}
