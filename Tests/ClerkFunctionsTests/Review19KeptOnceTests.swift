import ClerkFunctions
import JSON
import XCTest

/// Review 19: README says a set-aside backfill item is kept in `queue_rejects` "once: a second run adds nothing
/// there". The unique key holds `md5(body)`, and Clerk's UserJSON changes between runs for any active user
/// (`last_active_at`, `last_sign_in_at`, `updated_at`): every run keeps one more copy of the same user's body.
extension BackfillSetAsideTests {
    func testReview19ABadUserIsKeptOnceAcrossRunsEvenWhenClerksCopyChanges() throws {
        for run in 0..<3 {
            standIn.removeUser(id: "user_busy")
            // The same bad user (a member named twice), seen by Clerk a little later on each run.
            let json = Self.userJSON(id: "user_busy", created: Self.t0, unsafeMetadata: #"{"a":1,"a":2}"#)
                .replacingOccurrences(of: #""object":"user","#, with: #""object":"user","last_active_at":\#(Self.t0 + Int64(run) * 86_400_000),"#)
            standIn.addRawUser(json: json, id: "user_busy", createdAt: Self.t0)
            let summary = try backfill([.users])
            XCTAssertEqual(summary["users"]?["skipped"]?.doubleValue, 1, summary.serialized())
        }
        XCTAssertEqual(try count("SELECT count(*) AS n FROM queue_rejects WHERE message_id = 'production/user/user_busy'"), 1,
                       "one copy per run of the same item")
    }
}
