/// How a workload's statements go to the server, as pgbench's `-M`:
/// - `simple`: the SQL text with its values written in as literals, one `Query` message (`PQexec`);
/// - `extended`: the SQL with `$n` parameters, parsed, bound and executed each time (`PQexecParams`);
/// - `prepared`: each statement prepared once per connection (again after a reconnect), then only bound and
///   executed (`PQprepare`, `PQexecPrepared`). Named statements live in one server session: through a pooler in
///   transaction mode (PgBouncer 1.18) the next transaction may run on a server that never saw them (docs/load.md).
public enum QueryProtocol: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case simple, extended, prepared

    public var description: String { rawValue }

    /// Parses `simple`, `extended` or `prepared` (any case, surrounding blanks ignored). Throws a one-line
    /// `InputError` otherwise.
    public static func parse(_ text: String) throws(InputError) -> QueryProtocol {
        guard let p = QueryProtocol(rawValue: text.trimmingWhitespace().lowercased()) else {
            throw InputError("query protocol '\(text)' is unknown; use simple, extended or prepared (as pgbench -M)")
        }
        return p
    }
}
