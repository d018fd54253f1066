import LambdaRuntime
import LocalHosting
import XCTest

/// The text of a test's log file. A file that cannot be read fails the test instead of reading as empty: an
/// empty log passes every "nothing secret was logged" check, so it must never stand in for one not read.
public func logText(_ path: String, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        return try FileIO.readText(path)
    } catch {
        XCTFail("the log file \(path) could not be read: \(error)", file: file, line: line)
        return ""
    }
}
