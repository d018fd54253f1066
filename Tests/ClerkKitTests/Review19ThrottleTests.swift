@testable import ClerkKit
import XCTest

/// Review 19: the throttle runs on the wall clock (`Clock.nowMs`, CLOCK_REALTIME). A clock stepped back
/// (NTP correction, a restored snapshot) must not leave a warm container refusing every uncached lookup.
final class Review19ThrottleTests: XCTestCase {
    let t0: Int64 = 1_900_000_000_000
    /// The wall clock stepped back one hour.
    let hour: Int64 = 3_600_000

    func testTheBucketRefillsAfterTheClockStepsBack() throws {
        let throttle = MachineTokenThrottle(lookupsPerSecond: 2, maxConcurrentLookups: 4)
        try throttle.takeCall(nowMs: t0)
        try throttle.takeCall(nowMs: t0)
        // Ten real seconds after the step back: ten seconds' worth of budget is back (one second's is enough).
        XCTAssertNoThrow(try throttle.takeCall(nowMs: t0 - hour + 10_000),
                         "refused until the wall clock passes t0 again, an hour of lookups_throttled")
    }

    func testA429QuietsForAtMostSixtySecondsWhateverTheClockDoes() throws {
        let throttle = MachineTokenThrottle(lookupsPerSecond: 100, maxConcurrentLookups: 4)
        throttle.quiet(forSeconds: 60, nowMs: t0)
        // Two real minutes after a 429 whose Retry-After was 60 s, with the clock stepped back an hour meanwhile.
        XCTAssertNoThrow(try throttle.takeCall(nowMs: t0 - hour + 120_000),
                         "clerk_api_rate_limited for an hour: quietUntil was kept on the old clock")
    }
}
