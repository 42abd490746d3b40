import CLibPQ
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a libpq call failed. `description` never includes a password: conninfo strings are not echoed.
public struct PGError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// The connection could not be made (refused, unreachable, auth, connect_timeout).
        case connectFailed
        /// The connection broke while a statement was in flight or idle.
        case connectionLost
        /// No answer within the client-side deadline; the connection was closed.
        case timeout
        /// The server answered with an error; `sqlState` says which.
        case server
    }
    public var kind: Kind
    public var sqlState: String?
    public var message: String

    public init(kind: Kind, sqlState: String? = nil, message: String) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
    }

    public var description: String {
        if let s = sqlState { return "\(kind.rawValue) [\(s)]: \(message)" }
        return "\(kind.rawValue): \(message)"
    }

    /// Phrases of a refused connect that mean "reachable, but no free connection slot". libpq gives no SQLSTATE
    /// for a failed connect, only the server's message (in the server's `lc_messages`; English here):
    /// PostgreSQL's 53300 texts and PgBouncer's client limit.
    public static let connectionLimitPhrases = [
        "sorry, too many clients already",                  // max_connections reached
        "remaining connection slots are reserved",          // only reserved (superuser) slots left
        "too many connections for role",                    // rolconnlimit
        "too many connections for database",                // datconnlimit
        "no more connections allowed",                      // PgBouncer max_client_conn
    ]

    /// Whether a connect failure's message says the server is full (see `connectionLimitPhrases`).
    public static func isConnectionLimit(_ message: String?) -> Bool {
        guard let m = message?.lowercased(), !m.isEmpty else { return false }
        return connectionLimitPhrases.contains { m.contains($0) }
    }

    /// A refused connect for want of a free slot: SQLSTATE 53300, or (libpq gives none for a connect) its message.
    public static func isConnectionLimit(sqlState: String?, message: String?) -> Bool {
        sqlState == "53300" || isConnectionLimit(message)
    }

    /// The server refused this connection for want of a free slot (`isConnectionLimit(sqlState:message:)`).
    public var isConnectionLimit: Bool { Self.isConnectionLimit(sqlState: sqlState, message: message) }
}

/// The rows of one statement, as text.
public struct PGResult: Sendable {
    public var columns: [String]
    public var rows: [[String?]]
    public var commandTag: String

    /// The first column of the first row, if any.
    public var scalar: String? { rows.first?.first ?? nil }
}

/// The process-wide set-up libpq needs before its first connection.
public enum LibPQ {
    /// OpenSSL's atexit cleanup turned off (see `faultline_openssl_no_atexit`): without it a thread that is still
    /// connecting when the process exits (a load worker, a probe, a test's background loop) can crash the exit with
    /// SIGSEGV, as it did at the end of an integration run. Runs once; every connection calls it first.
    public static func prepare() { _ = openSSLKeptAtExit }
    private static let openSSLKeptAtExit: Bool = faultline_openssl_no_atexit() == 1
}

/// One libpq connection. Not thread-safe: one owner at a time (a worker, a probe).
///
/// Every statement runs through the asynchronous libpq API with a client-side deadline,
/// so a partitioned server can never hang the caller.
public final class PGConnection: @unchecked Sendable {
    private var conn: OpaquePointer?
    /// Receives server notices (WARNING/NOTICE) so they never reach stderr; remembers the last SQLSTATE.
    private let notices = NoticeSink()

    /// Connects with `conninfo` (a libpq keyword string or URI). `connectTimeout` bounds the whole
    /// connection attempt; libpq's own minimum `connect_timeout` is 2 s, so shorter values are enforced here.
    public init(_ conninfo: String, connectTimeout: Duration = .seconds(3)) throws(PGError) {
        LibPQ.prepare()
        guard let c = PQconnectStart(conninfo) else {
            throw PGError(kind: .connectFailed, message: "out of memory")
        }
        conn = c
        let deadline = ContinuousClock.now + connectTimeout
        var status = PGRES_POLLING_WRITING
        while true {
            if PQstatus(c) == CONNECTION_BAD { break }
            if status == PGRES_POLLING_OK {
                Self.configure(c, notices)
                return
            }
            if status == PGRES_POLLING_FAILED { break }
            let events: Int16 = status == PGRES_POLLING_READING ? Int16(POLLIN) : Int16(POLLOUT)
            let ready = Self.wait(socket: PQsocket(c), events: events, until: deadline)
            if !ready {
                PQfinish(c); conn = nil
                throw PGError(kind: .timeout, message: "connect timed out after \(connectTimeout)")
            }
            status = PQconnectPoll(c)
        }
        let msg = Self.message(c)
        PQfinish(c); conn = nil
        throw PGError(kind: .connectFailed, message: msg)
    }

    /// A connection made by `connect(_:connectTimeout:via:)`.
    private init(connected c: OpaquePointer) {
        conn = c
        Self.configure(c, notices)
    }

    /// Quiets notices (libpq prints them to stderr by default) and keeps the last SQLSTATE: an immediate shutdown
    /// announces itself as WARNING 57P01 before closing the socket. Makes sends non-blocking, so the client deadline
    /// also bounds writes to a stuck server.
    private static func configure(_ c: OpaquePointer, _ notices: NoticeSink) {
        PQsetNoticeReceiver(c, noticeReceiver, Unmanaged.passUnretained(notices).toOpaque())
        _ = PQsetnonblocking(c, 1)
    }

    deinit { if let c = conn { PQfinish(c) } }

    /// Whether the connection is still usable.
    public var isOpen: Bool { conn != nil && PQstatus(conn) == CONNECTION_OK }

    /// Closes the connection now.
    public func close() {
        if let c = conn { PQfinish(c) }
        conn = nil
        preparedNames = []
    }

    /// Runs one statement (or a `;`-separated batch when `params` is empty) and returns the last result.
    /// On timeout the connection is closed, so the caller cannot reuse a connection in an unknown state.
    @discardableResult
    public func exec(_ sql: String, _ params: [String?] = [], timeout: Duration = .seconds(10)) throws(PGError) -> PGResult {
        params.isEmpty ? try execSimple(sql, timeout: timeout) : try execParams(sql, params, timeout: timeout)
    }

    /// The simple protocol (`PQsendQuery`): `sql` as it is, values written in; a `;`-separated batch is allowed.
    /// `rows: false` skips decoding the rows (the command tag is still read).
    @discardableResult
    public func execSimple(_ sql: String, timeout: Duration = .seconds(10), rows: Bool = true) throws(PGError) -> PGResult {
        let c = try open()
        guard PQsendQuery(c, sql) == 1 else { throw lost(c) }
        return try finish(c, timeout: timeout, rows: rows)
    }

    /// The extended protocol with an unnamed statement (`PQsendQueryParams`: parse, bind, execute every time), even
    /// without parameters. Values are sent as text; their types are inferred by the server.
    @discardableResult
    public func execParams(_ sql: String, _ params: [String?], timeout: Duration = .seconds(10), rows: Bool = true) throws(PGError) -> PGResult {
        let c = try open()
        let sent = Self.withCStrings(params) { ptrs, n in PQsendQueryParams(c, sql, n, nil, ptrs, nil, nil, 0) }
        guard sent == 1 else { throw lost(c) }
        return try finish(c, timeout: timeout, rows: rows)
    }

    /// Names prepared on this connection (by `execPrepared`); a new connection starts with none.
    public private(set) var preparedNames: Set<String> = []

    /// Prepares `sql` as statement `name` on this connection (`PQsendPrepare`, parameter types inferred).
    public func prepare(_ name: String, _ sql: String, timeout: Duration = .seconds(10)) throws(PGError) {
        let c = try open()
        guard PQsendPrepare(c, name, sql, 0, nil) == 1 else { throw lost(c) }
        _ = try finish(c, timeout: timeout, rows: false)
        preparedNames.insert(name)
    }

    /// Runs the statement `name`, preparing it from `sql` first if this connection has not prepared it yet (once per
    /// connection: a failed prepare is tried again on the next call, a failed execution is not). Each of the two
    /// round trips has its own deadline of `timeout`.
    @discardableResult
    public func execPrepared(_ name: String, sql: String, _ params: [String?], timeout: Duration = .seconds(10),
                             rows: Bool = true) throws(PGError) -> PGResult {
        if !preparedNames.contains(name) { try prepare(name, sql, timeout: timeout) }
        let c = try open()
        let sent = Self.withCStrings(params) { ptrs, n in PQsendQueryPrepared(c, name, n, ptrs, nil, nil, 0) }
        guard sent == 1 else { throw lost(c) }
        return try finish(c, timeout: timeout, rows: rows)
    }

    private func open() throws(PGError) -> OpaquePointer {
        guard let c = conn, PQstatus(c) == CONNECTION_OK else {
            throw PGError(kind: .connectionLost, message: "connection is closed")
        }
        return c
    }

    /// After a send: flushes, waits for every result until `timeout`, returns the last (or throws the first error).
    private func finish(_ c: OpaquePointer, timeout: Duration, rows: Bool) throws(PGError) -> PGResult {
        notices.lastSQLState = nil
        let deadline = ContinuousClock.now + timeout
        // Flush the outgoing query (non-blocking sockets may need several rounds).
        while true {
            let f = PQflush(c)
            if f == 0 { break }
            if f < 0 { throw lost(c) }
            guard Self.wait(socket: PQsocket(c), events: Int16(POLLOUT | POLLIN), until: deadline) else {
                throw timedOut(timeout)
            }
            // libpq: when the socket is read-ready, consume input before flushing again (the server may be
            // waiting for us to read before it reads more).
            if PQconsumeInput(c) == 0 { throw lost(c) }
        }
        var last: PGResult?
        var failure: PGError?
        while true {
            while PQisBusy(c) == 1 {
                guard Self.wait(socket: PQsocket(c), events: Int16(POLLIN), until: deadline) else {
                    throw timedOut(timeout)
                }
                if PQconsumeInput(c) == 0 { throw lost(c) }
            }
            guard let r = PQgetResult(c) else { break }
            absorb(r, c, rows: rows, last: &last, failure: &failure)
        }
        return try conclude(c, last: last, failure: failure)
    }

    /// Takes one result of a statement: keeps the rows (or only the tag) of a success, the first error of a failure.
    /// Clears `r`.
    private func absorb(_ r: OpaquePointer, _ c: OpaquePointer, rows: Bool, last: inout PGResult?, failure: inout PGError?) {
        defer { PQclear(r) }
        switch PQresultStatus(r) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            last = rows ? Self.decode(r) : Self.tagOnly(r)
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
            let state = PQresultErrorField(r, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let text = PQresultErrorField(r, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
                ?? String(cString: PQresultErrorMessage(r))
            if state == nil && PQstatus(c) == CONNECTION_BAD {
                failure = PGError(kind: .connectionLost, message: Self.trim(text))
            } else if failure == nil {
                failure = PGError(kind: .server, sqlState: state, message: Self.trim(text))
            }
        default:
            last = rows ? Self.decode(r) : Self.tagOnly(r)
        }
    }

    /// After the last result: a broken connection is closed and reported as lost (a shutdown's SQLSTATE kept),
    /// else the first error is thrown or the last result returned.
    private func conclude(_ c: OpaquePointer, last: PGResult?, failure: PGError?) throws(PGError) -> PGResult {
        var failure = failure
        if PQstatus(c) == CONNECTION_BAD {
            if failure == nil, let s = notices.lastSQLState, s.hasPrefix("57P") {
                failure = PGError(kind: .connectionLost, sqlState: s, message: notices.lastMessage ?? "server shut the session down")
            }
            let e = failure.map { $0.kind == .server && $0.sqlState?.hasPrefix("57P") != true ? $0 : PGError(kind: .connectionLost, sqlState: $0.sqlState, message: $0.message) }
            close()
            throw e ?? PGError(kind: .connectionLost, message: "server closed the connection")
        }
        if let f = failure { throw f }
        return last ?? PGResult(columns: [], rows: [], commandTag: "")
    }

    /// The server's address as the server sees it (`inet_server_addr()`), or the host libpq used.
    public var host: String { conn.flatMap { PQhost($0) }.map { String(cString: $0) } ?? "" }

    /// libpq's backend pid for this connection.
    public var backendPID: Int32 { conn.map { PQbackendPID($0) } ?? 0 }

    // MARK: - Helpers

    private func lost(_ c: OpaquePointer) -> PGError {
        // A shutdown warning (57P0x) that arrived just before the socket closed explains the loss.
        let s = notices.lastSQLState.flatMap { $0.hasPrefix("57P") ? $0 : nil }
        let e = PGError(kind: .connectionLost, sqlState: s, message: Self.message(c))
        close()
        return e
    }

    private func timedOut(_ t: Duration) -> PGError {
        close()
        return PGError(kind: .timeout, message: "no answer within \(t)")
    }

    private static func message(_ c: OpaquePointer) -> String {
        trim(PQerrorMessage(c).map { String(cString: $0) } ?? "unknown libpq error")
    }

    private static func trim(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }

    private static func decode(_ r: OpaquePointer) -> PGResult {
        let nf = PQnfields(r), nt = PQntuples(r)
        var cols: [String] = []
        cols.reserveCapacity(Int(nf))
        for i in 0..<nf { cols.append(String(cString: PQfname(r, i))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(Int(nt))
        for t in 0..<nt {
            var row: [String?] = []
            row.reserveCapacity(Int(nf))
            for f in 0..<nf {
                row.append(PQgetisnull(r, t, f) == 1 ? nil : String(cString: PQgetvalue(r, t, f)))
            }
            rows.append(row)
        }
        let tag = PQcmdStatus(r).map { String(cString: $0) } ?? ""
        return PGResult(columns: cols, rows: rows, commandTag: tag)
    }

    private static func tagOnly(_ r: OpaquePointer) -> PGResult {
        PGResult(columns: [], rows: [], commandTag: PQcmdStatus(r).map { String(cString: $0) } ?? "")
    }

    /// Calls `body` with C strings of `strings` (NULL for nil) and their count: one temporary buffer for all of
    /// them, no heap allocation for a few short values.
    private static func withCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?, Int32) -> R) -> R {
        guard !strings.isEmpty else { return body(nil, 0) }
        var bytes = 0
        for s in strings { if let s { bytes += s.utf8.count + 1 } }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: max(bytes, 1)) { buf in
            withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: strings.count) { ptrs in
                var at = 0
                for (i, s) in strings.enumerated() {
                    guard var s else { ptrs[i] = nil; continue }
                    let start = buf.baseAddress! + at
                    s.withUTF8 { u in
                        u.withMemoryRebound(to: CChar.self) { c in
                            if let b = c.baseAddress { start.update(from: b, count: c.count) }
                        }
                        at += u.count
                    }
                    buf[at] = 0
                    at += 1
                    ptrs[i] = UnsafePointer(start)
                }
                return body(UnsafePointer(ptrs.baseAddress), Int32(strings.count))
            }
        }
    }

    /// Polls `socket` for `events` until `deadline`. Returns false on timeout.
    static func wait(socket: Int32, events: Int16, until deadline: ContinuousClock.Instant) -> Bool {
        guard socket >= 0 else { return true }  // let libpq report the broken state
        while true {
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { return false }
            let ms = Int32(min(remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1, 60_000))
            var p = pollfd(fd: socket, events: events, revents: 0)
            let n = poll(&p, 1, ms)
            if n > 0 { return true }
            if n < 0 && errno != EINTR { return true }
        }
    }
}

/// Waits for a socket or an instant on behalf of the asynchronous `PGConnection` calls (`connect(_:connectTimeout:via:)`,
/// `exec...(via:)`): an event loop that serves several connections on one thread, as `pgbench -j` does, instead of
/// one thread blocking in `poll` for each.
public protocol PGWaiter: Sendable {
    /// Suspends until `socket` is ready for `events` (POLLIN, POLLOUT) or the CLOCK_MONOTONIC instant `deadlineNs`
    /// passes. True when ready (or the socket reports an error or hang-up), false on the deadline.
    func wait(socket: Int32, events: Int16, deadlineNs: Int64) async -> Bool
}

extension PGConnection {
    /// CLOCK_MONOTONIC in nanoseconds: the clock of `PGWaiter` deadlines.
    @inline(__always) public static func monotonicNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// The same connection attempt as `init(_:connectTimeout:)`, waiting through `waiter` instead of blocking the
    /// thread: `connectTimeout` bounds the whole attempt.
    public static func connect(_ conninfo: String, connectTimeout: Duration = .seconds(3), via waiter: any PGWaiter) async throws(PGError) -> PGConnection {
        LibPQ.prepare()
        guard let c = PQconnectStart(conninfo) else {
            throw PGError(kind: .connectFailed, message: "out of memory")
        }
        let deadline = monotonicNs() + connectTimeout.nanoseconds
        var status = PGRES_POLLING_WRITING
        while true {
            if PQstatus(c) == CONNECTION_BAD { break }
            if status == PGRES_POLLING_OK { return PGConnection(connected: c) }
            if status == PGRES_POLLING_FAILED { break }
            let events: Int16 = status == PGRES_POLLING_READING ? Int16(POLLIN) : Int16(POLLOUT)
            let socket = PQsocket(c)
            if socket >= 0, !(await waiter.wait(socket: socket, events: events, deadlineNs: deadline)) {
                PQfinish(c)
                throw PGError(kind: .timeout, message: "connect timed out after \(connectTimeout)")
            }
            status = PQconnectPoll(c)
        }
        let msg = message(c)
        PQfinish(c)
        throw PGError(kind: .connectFailed, message: msg)
    }

    /// `execSimple`, waiting through `waiter`.
    @discardableResult
    public func execSimple(_ sql: String, timeout: Duration = .seconds(10), rows: Bool = true, via waiter: any PGWaiter) async throws(PGError) -> PGResult {
        let c = try open()
        guard PQsendQuery(c, sql) == 1 else { throw lost(c) }
        return try await finish(c, timeout: timeout, rows: rows, via: waiter)
    }

    /// `execParams`, waiting through `waiter`.
    @discardableResult
    public func execParams(_ sql: String, _ params: [String?], timeout: Duration = .seconds(10), rows: Bool = true,
                           via waiter: any PGWaiter) async throws(PGError) -> PGResult {
        let c = try open()
        let sent = Self.withCStrings(params) { ptrs, n in PQsendQueryParams(c, sql, n, nil, ptrs, nil, nil, 0) }
        guard sent == 1 else { throw lost(c) }
        return try await finish(c, timeout: timeout, rows: rows, via: waiter)
    }

    /// `exec` (simple without parameters, extended with them), waiting through `waiter`.
    @discardableResult
    public func exec(_ sql: String, _ params: [String?] = [], timeout: Duration = .seconds(10), via waiter: any PGWaiter) async throws(PGError) -> PGResult {
        params.isEmpty ? try await execSimple(sql, timeout: timeout, via: waiter) : try await execParams(sql, params, timeout: timeout, via: waiter)
    }

    /// `execPrepared` (prepared once per connection, each round trip with its own deadline), waiting through `waiter`.
    @discardableResult
    public func execPrepared(_ name: String, sql: String, _ params: [String?], timeout: Duration = .seconds(10),
                             rows: Bool = true, via waiter: any PGWaiter) async throws(PGError) -> PGResult {
        if !preparedNames.contains(name) {
            let c = try open()
            guard PQsendPrepare(c, name, sql, 0, nil) == 1 else { throw lost(c) }
            _ = try await finish(c, timeout: timeout, rows: false, via: waiter)
            preparedNames.insert(name)
        }
        let c = try open()
        let sent = Self.withCStrings(params) { ptrs, n in PQsendQueryPrepared(c, name, n, ptrs, nil, nil, 0) }
        guard sent == 1 else { throw lost(c) }
        return try await finish(c, timeout: timeout, rows: rows, via: waiter)
    }

    /// `finish` with the waits through `waiter`: flushes, waits for every result until `timeout`, returns the last
    /// (or throws the first error).
    private func finish(_ c: OpaquePointer, timeout: Duration, rows: Bool, via waiter: any PGWaiter) async throws(PGError) -> PGResult {
        notices.lastSQLState = nil
        let deadline = Self.monotonicNs() + timeout.nanoseconds
        while true {
            let f = PQflush(c)
            if f == 0 { break }
            if f < 0 { throw lost(c) }
            let socket = PQsocket(c)
            if socket >= 0, !(await waiter.wait(socket: socket, events: Int16(POLLOUT | POLLIN), deadlineNs: deadline)) {
                throw timedOut(timeout)
            }
            if PQconsumeInput(c) == 0 { throw lost(c) }
        }
        var last: PGResult?
        var failure: PGError?
        while true {
            while PQisBusy(c) == 1 {
                let socket = PQsocket(c)
                if socket >= 0, !(await waiter.wait(socket: socket, events: Int16(POLLIN), deadlineNs: deadline)) {
                    throw timedOut(timeout)
                }
                if PQconsumeInput(c) == 0 { throw lost(c) }
            }
            guard let r = PQgetResult(c) else { break }
            absorb(r, c, rows: rows, last: &last, failure: &failure)
        }
        return try conclude(c, last: last, failure: failure)
    }
}

extension Duration {
    /// Whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (s, a) = components
        let (ns, o) = s.multipliedReportingOverflow(by: 1_000_000_000)
        return o ? (s < 0 ? .min : .max) : ns &+ a / 1_000_000_000
    }
}

/// Holds the last notice seen on a connection. Touched only by the connection's owner thread
/// (libpq calls the receiver synchronously from inside PQconsumeInput / PQgetResult).
final class NoticeSink: @unchecked Sendable {
    var lastSQLState: String?
    var lastMessage: String?
}

private func noticeReceiver(_ arg: UnsafeMutableRawPointer?, _ result: OpaquePointer?) {
    guard let arg, let result else { return }
    let sink = Unmanaged<NoticeSink>.fromOpaque(arg).takeUnretainedValue()
    sink.lastSQLState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
    sink.lastMessage = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
}
