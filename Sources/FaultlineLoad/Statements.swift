import Faultline
import FaultlinePG
import Foundation

/// One statement of a workload: its SQL with `$n` placeholders and the name it is prepared under
/// (`QueryProtocol.prepared`). The same name on every client, as pgbench's `P_0`, `P_1`...
struct Statement: Sendable, Equatable {
    let name: String
    let sql: String
}

/// Sends a workload's statements in one `QueryProtocol` (pgbench `-M`). One per worker.
struct StatementSender {
    let queryProtocol: QueryProtocol
    let timeout: Duration

    /// Runs `statement` with `params` on `conn`: simple (values written into the text as literals), extended
    /// (unnamed statement, parameters every time) or prepared (named, prepared once per connection).
    /// `rows: false` when only the command tag matters.
    /// Every wait goes through `waiter` (the client's event loop).
    @discardableResult
    func run(_ conn: PGConnection, _ statement: Statement, _ params: [String?] = [], rows: Bool = true,
             via waiter: any PGWaiter) async throws(PGError) -> PGResult {
        switch queryProtocol {
        case .simple:
            try await conn.execSimple(params.isEmpty ? statement.sql : SQLText.inline(statement.sql, params), timeout: timeout, rows: rows,
                                      via: waiter)
        case .extended:
            try await conn.execParams(statement.sql, params, timeout: timeout, rows: rows, via: waiter)
        case .prepared:
            try await conn.execPrepared(statement.name, sql: statement.sql, params, timeout: timeout, rows: rows, via: waiter)
        }
    }
}

/// SQL text for the simple protocol. Pure.
enum SQLText {
    /// A string literal: `'it''s'`; with a backslash, the escape form `E'a\\b'` (right whatever
    /// `standard_conforming_strings` says); nil is `NULL`.
    static func literal(_ value: String?) -> String {
        guard let value else { return "NULL" }
        var out = value.contains("\\") ? "E'" : "'"
        out.reserveCapacity(value.utf8.count + 3)
        for ch in value.unicodeScalars {
            switch ch {
            case "'": out += "''"
            case "\\": out += "\\\\"
            default: out.unicodeScalars.append(ch)
            }
        }
        out += "'"
        return out
    }

    /// `sql` with every placeholder `$n` (outside quoted strings, quoted identifiers and comments) replaced by the
    /// literal of `params[n-1]`, as pgbench `-M simple` writes its variables into the text. A placeholder without a
    /// parameter is left as it is (the server then reports it).
    static func inline(_ sql: String, _ params: [String?]) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + params.count * 12)
        let s = Array(sql.unicodeScalars)
        var i = 0
        while i < s.count {
            let c = s[i]
            if c == "'" || c == "\"" {  // a quoted string or identifier, '' and "" inside
                var j = i + 1
                while j < s.count {
                    if s[j] == c { if j + 1 < s.count, s[j + 1] == c { j += 2; continue } else { break } }
                    j += 1
                }
                out.unicodeScalars.append(contentsOf: s[i..<min(j + 1, s.count)])
                i = j + 1
            } else if c == "-", i + 1 < s.count, s[i + 1] == "-" {  // a line comment
                var j = i
                while j < s.count, s[j] != "\n" { j += 1 }
                out.unicodeScalars.append(contentsOf: s[i..<j])
                i = j
            } else if c == "$", i + 1 < s.count, isDigit(s[i + 1]) {
                var j = i + 1, n = 0
                while j < s.count, isDigit(s[j]), n < 100_000 { n = n * 10 + Int(s[j].value - 48); j += 1 }
                if n >= 1, n <= params.count {
                    out += literal(params[n - 1])
                } else {
                    out.unicodeScalars.append(contentsOf: s[i..<j])
                }
                i = j
            } else {
                out.unicodeScalars.append(c)
                i += 1
            }
        }
        return out
    }

    /// The statements of a script, split at `;` outside quoted strings and identifiers, dollar-quoted bodies and
    /// comments; blank ones (and comment-only ones) dropped, each trimmed, without its `;`. The extended and
    /// prepared protocols send one statement at a time.
    static func split(_ script: String) -> [String] {
        var statements: [String] = []
        let s = Array(script.unicodeScalars)
        var current = String.UnicodeScalarView()
        var hasCode = false
        var i = 0
        func flush() {
            let text = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if hasCode, !text.isEmpty { statements.append(text) }
            current = String.UnicodeScalarView()
            hasCode = false
        }
        while i < s.count {
            let c = s[i]
            if c == "'" || c == "\"" {
                var j = i + 1
                while j < s.count {
                    if s[j] == c { if j + 1 < s.count, s[j + 1] == c { j += 2; continue } else { break } }
                    j += 1
                }
                current.append(contentsOf: s[i..<min(j + 1, s.count)])
                hasCode = true
                i = j + 1
            } else if c == "-", i + 1 < s.count, s[i + 1] == "-" {
                var j = i
                while j < s.count, s[j] != "\n" { j += 1 }
                current.append(contentsOf: s[i..<j])
                i = j
            } else if c == "/", i + 1 < s.count, s[i + 1] == "*" {
                var j = i + 2
                while j + 1 < s.count, !(s[j] == "*" && s[j + 1] == "/") { j += 1 }
                let end = min(j + 2, s.count)
                current.append(contentsOf: s[i..<end])
                i = end
            } else if c == "$", let tag = dollarTag(s, at: i) {
                // $tag$ ... $tag$
                var j = i + tag.count
                while j < s.count, !(s[j] == "$" && Array(s[j..<min(j + tag.count, s.count)]) == tag) { j += 1 }
                let end = min(j + tag.count, s.count)
                current.append(contentsOf: s[i..<end])
                hasCode = true
                i = end
            } else if c == ";" {
                flush()
                i += 1
            } else {
                current.append(c)
                if !c.properties.isWhitespace { hasCode = true }
                i += 1
            }
        }
        flush()
        return statements
    }

    @inline(__always) private static func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 48 && c.value <= 57 }

    /// The dollar-quote opener at `i` (`$$` or `$name$`), or nil (`$1` is a parameter, not a quote).
    private static func dollarTag(_ s: [Unicode.Scalar], at i: Int) -> [Unicode.Scalar]? {
        var j = i + 1
        while j < s.count, s[j] != "$" {
            let c = s[j]
            let ok = c == "_" || c.properties.isAlphabetic || (j > i + 1 && isDigit(c))
            guard ok else { return nil }
            j += 1
        }
        guard j < s.count else { return nil }
        return Array(s[i...j])
    }
}
