/// Clerk's word on a user the database does not know yet (`ClerkUserDirectory` over the Backend API; a scripted
/// one in the unit tier).
protocol ClerkUserLookUp: Sendable {
    /// Clerk's answer for `clerkUserId` in `environment`, nil when no instance of that environment is configured.
    func lookUp(_ clerkUserId: String, environment: String, deadlineMs: Int64) -> ClerkUserDirectory.Answer?
}

extension ClerkUserDirectory: ClerkUserLookUp {}
