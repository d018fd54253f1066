import ClerkKit
import JSON

@testable import ClerkFunctions

/// Clerk's Backend API as a script: the answer for each user it is asked about, and the questions asked.
final class ScriptedClerkDirectory: ClerkUserLookUp, @unchecked Sendable {
    var answers: [String: ClerkUserDirectory.Answer] = [:]
    private(set) var asked: [String] = []

    func lookUp(_ clerkUserId: String, environment: String, deadlineMs: Int64) -> ClerkUserDirectory.Answer? {
        asked.append(clerkUserId)
        return answers[clerkUserId] ?? .notFound
    }

    /// Clerk's `UserJSON` for `id`, as the Backend API sends it.
    static func found(_ id: String, email: String, updatedAt: Int64 = 1_700_000_000_000) throws -> ClerkUserDirectory.Answer {
        let json =
            #"{"id":"\#(id)","object":"user","first_name":"Grace","email_addresses":[{"id":"idn_1","email_address":"\#(email)"}],"primary_email_address_id":"idn_1","created_at":1,"updated_at":\#(updatedAt)}"#
        return .found(try JSONCoding.decoder.decode(ClerkUser.self, from: Array(json.utf8)), json: json)
    }
}
