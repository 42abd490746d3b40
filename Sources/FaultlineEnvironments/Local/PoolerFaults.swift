import Faultline
import FaultlineConcurrency
import FaultlinePG
import Foundation

/// The pooler fault of the local environment: PgBouncer's `PAUSE` and `RESUME` on its admin console (database
/// `pgbouncer`, as `faultline`, one of its `admin_users`; the password from the passfile), and which member
/// HAProxy's read-write port reaches, for `Condition.newPrimaryRouted`.
extension LocalEnvironment {
    /// The admin console of PgBouncer (simple query protocol only, which `PGConnection.exec` without parameters uses).
    var poolerAdmin: String { config.conninfo(host: config.clientIP, port: 6432, dbname: "pgbouncer") }

    /// `PAUSE`: PgBouncer waits for every server connection's transaction to end, closes them, and holds every
    /// client's next query until `RESUME`. Returns once PgBouncer answered (all server connections released).
    public func pausePooler() async throws {
        let dsn = poolerAdmin
        runner.commandLog?.append("psql pgbouncer (admin console): PAUSE")
        try await Blocking.run { () throws(PGError) -> Void in
            let c = try PGConnection(dsn, connectTimeout: .seconds(2))
            defer { c.close() }
            _ = try c.exec("PAUSE", timeout: .seconds(10))
        }
    }

    /// `RESUME`; idempotent: PgBouncer's "pooler is not paused/suspended" (nothing to resume) is fine.
    /// Returns whether it resumed a paused pooler.
    @discardableResult
    public func resumePooler() async throws -> Bool {
        let dsn = poolerAdmin
        runner.commandLog?.append("psql pgbouncer (admin console): RESUME")
        return try await Blocking.run { () throws(PGError) -> Bool in
            let c = try PGConnection(dsn, connectTimeout: .seconds(2))
            defer { c.close() }
            do throws(PGError) {
                _ = try c.exec("RESUME", timeout: .seconds(5))
                return true
            } catch {
                if error.description.contains("not paused") { return false }
                throw error
            }
        }
    }

    /// The member HAProxy's read-write port reaches now, when it runs as a primary (a write would commit there); nil
    /// when the port answers from no primary (routing not settled) or not at all.
    public func routedPrimary() async -> String? {
        let dsn = config.readWrite, config = self.config
        return await Blocking.run { () -> String? in
            guard let c = try? PGConnection(dsn, connectTimeout: .seconds(1)) else { return nil }
            defer { c.close() }
            guard let r = try? c.exec("select host(inet_server_addr()), pg_is_in_recovery()", timeout: .seconds(1)),
                  let row = r.rows.first, row.count == 2, row[1] == "f", let addr = row[0] else { return nil }
            return config.nodeNames.first { config.nodeIP($0) == addr }
        }
    }
}
