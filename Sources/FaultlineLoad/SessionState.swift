import Faultline
import FaultlinePG

/// The `session` workload: an application that keeps state in its session, as many do (a tenant or user id in a
/// custom setting, a `search_path`, a session advisory lock). On each new connection the client sets the session
/// variable `faultline.client` to a token of its own (`set_config(..., is_local => false)`: for the whole
/// session), then every request, a transaction of its own, reads it back. Directly and through PgBouncer in session
/// mode the session is the client's, so it reads its own token. Through PgBouncer in transaction mode each
/// transaction may run on another server connection: the request reads another client's token (what the
/// application would then act on) or none, and fails as `other_sqlstate` with the message "session state lost".
struct SessionClient {
    /// This connection's token once set; nil on a new connection.
    private(set) var token: String?
    /// Connections this client has set a token on.
    private(set) var connections = 0

    static let set = "SELECT set_config('faultline.client', $1, false)"
    static let read = "SELECT current_setting('faultline.client', true)"

    /// A new connection: the next request sets a new token first.
    mutating func connected() { token = nil }

    /// The token for this client's `connections`-th connection: unique in the run.
    static func token(runID: String, worker: Int, connection: Int) -> String { "\(runID)-w\(worker)-c\(connection)" }

    /// What a read-back means: nil when it is the client's own token, else the failure.
    static func check(expected: String, read: String?) -> PGError? {
        if read == expected { return nil }
        let what = (read ?? "").isEmpty ? "nothing (a server session that never saw the SET)" : "'\(read!)' (another session's)"
        return PGError(kind: .server, message:
            "session state lost: this client set faultline.client to '\(expected)' on its session, the next transaction read \(what)")
    }

    /// Sets the token on a new connection.
    mutating func begin(runID: String, worker: Int, on conn: PGConnection, timeout: Duration, via waiter: any PGWaiter) async throws(PGError) -> String {
        if let token { return token }
        connections += 1
        let t = Self.token(runID: runID, worker: worker, connection: connections)
        try await conn.exec(Self.set, [t], timeout: timeout, via: waiter)
        token = t
        return t
    }
}

extension RequestRunner {
    /// One `session` request: the token set once per connection, then read back in a transaction of its own.
    mutating func sessionState(_ conn: PGConnection, _ waiter: any PGWaiter) async -> RequestResult {
        let expected: String
        do { expected = try await session.begin(runID: runID, worker: worker, on: conn, timeout: timeout, via: waiter) } catch { return fail(error, .statement) }
        let read: String?
        do { read = try await conn.exec(SessionClient.read, timeout: timeout, via: waiter).scalar } catch { return fail(error, .statement) }
        if let lost = SessionClient.check(expected: expected, read: read) { return RequestResult(outcome: .otherSQLState, error: lost) }
        return RequestResult(outcome: .ok)
    }
}
