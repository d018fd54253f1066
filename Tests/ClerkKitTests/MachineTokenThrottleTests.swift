import XCTest

@testable import ClerkKit

/// The throttle on its own monotonic clock (a stepped one here): no reading of that clock, even one that
/// goes back (which `CLOCK_MONOTONIC` never does), holds back refills or stretches Clerk's `Retry-After`
/// past its 60 s cap, so a warm container can never be left refusing every uncached lookup.
final class MachineTokenThrottleTests: XCTestCase {
    let m0: Int64 = 1_900_000_000_000
    let hour: Int64 = 3_600_000

    func testTheBucketRefillsWithinASecondWhateverTheClockReads() throws {
        let clock = SteppedClock(m0)
        let throttle = MachineTokenThrottle(lookupsPerSecond: 2, maxConcurrentLookups: 4, clock: clock.read)
        try throttle.takeCall()
        try throttle.takeCall()
        XCTAssertThrowsError(try throttle.takeCall(), "this second's two calls are spent")
        clock.set(m0 - hour)
        XCTAssertThrowsError(try throttle.takeCall(), "a reading that goes back adds nothing")
        clock.set(m0 - hour + 1000)
        XCTAssertNoThrow(try throttle.takeCall(), "one second after that reading: not refused until the clock passes m0 again")
        clock.set(m0 - hour + 11_000)
        XCTAssertNoThrow(try throttle.takeCall())
        XCTAssertNoThrow(try throttle.takeCall())
        XCTAssertThrowsError(try throttle.takeCall(), "ten seconds still buy one second's worth: the bucket holds two")
    }

    func testA429QuietsForAtMostSixtySecondsWhateverTheClockReads() throws {
        let clock = SteppedClock(m0)
        let throttle = MachineTokenThrottle(lookupsPerSecond: 100, maxConcurrentLookups: 4, clock: clock.read)
        throttle.quiet(forSeconds: 600)
        clock.set(m0 + 59_999)
        XCTAssertThrowsError(try throttle.takeCall()) { error in
            XCTAssertEqual(error as? MachineTokenError, .clerkRateLimited(retryAfterSeconds: 1))
        }
        XCTAssertThrowsError(try throttle.enter(TokenDigest("ak_quiet")), "no new lookup starts either")
        clock.set(m0 + 60_000)
        XCTAssertNoThrow(try throttle.takeCall(), "a Retry-After of 600 s is held to 60")

        throttle.quiet(forSeconds: 60)
        clock.set(m0 - hour + 120_000)
        XCTAssertNoThrow(try throttle.takeCall(), "a reading before the 429 (only an injected clock goes back) does not prolong it")
        XCTAssertNoThrow(try throttle.enter(TokenDigest("ak_quiet")))
    }

    func testALaterShorterRetryAfterDoesNotCutTheWaitShort() throws {
        let clock = SteppedClock(m0)
        let throttle = MachineTokenThrottle(lookupsPerSecond: 100, maxConcurrentLookups: 4, clock: clock.read)
        throttle.quiet(forSeconds: 30)
        clock.set(m0 + 10_000)
        throttle.quiet(forSeconds: 1)
        clock.set(m0 + 29_999)
        XCTAssertThrowsError(try throttle.takeCall()) { error in
            XCTAssertEqual(error as? MachineTokenError, .clerkRateLimited(retryAfterSeconds: 1))
        }
        clock.set(m0 + 30_000)
        XCTAssertNoThrow(try throttle.takeCall())
    }
}
