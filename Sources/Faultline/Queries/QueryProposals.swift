import Foundation

/// A btree index a plan asks for: a table and its keys (columns or expressions such as `lower(email)`).
public struct IndexCandidate: Codable, Sendable, Equatable, Hashable {
    public var table: String
    public var keys: [String]

    public init(table: String, keys: [String]) {
        self.table = table
        self.keys = keys
    }

    /// `ON orders (created_at)`: the part of CREATE INDEX after its name.
    public var definition: String { "ON \(table) (\(keys.joined(separator: ", ")))" }
    /// `CREATE INDEX ON orders (created_at)`, as `hypopg_create_index` takes it.
    public var createStatement: String { "CREATE INDEX \(definition)" }
    /// `orders_created_at_idx`, `customers_lower_email_idx`: the table and the keys' words.
    public var name: String {
        let words = keys.joined(separator: "_").lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        let key = String(words).split(separator: "_").joined(separator: "_")
        return "\(table)_\(key)_idx"
    }
}

/// What the report proposes for one statement: an index to build, or a rewrite where no index is the fix.
public struct QueryProposal: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case index, rewrite }
    public var kind: Kind
    public var index: IndexCandidate?
    /// For a rewrite: its name ("keyset pagination").
    public var rewrite: String?
    /// Why, from the plan: "Seq Scan on orders removed 999,886 rows to keep 114".
    public var reason: String

    public init(kind: Kind, index: IndexCandidate? = nil, rewrite: String? = nil, reason: String) {
        self.kind = kind
        self.index = index
        self.rewrite = rewrite
        self.reason = reason
    }

    /// The name of a keyset-pagination rewrite.
    public static let keyset = "keyset pagination"
}

/// Proposals from an analysed plan (EXPLAIN ANALYZE): pure rules over the plan nodes and the statement's text.
public enum QueryAdvisor {
    /// A scan is worth an index when its filter threw away at least this many rows for every row it kept...
    public static let selectivity = 10.0
    /// ...and at least this many rows in all.
    public static let minimumRemoved = 1000.0
    /// An index scan is worth a better index when it read at least this many buffers (800 KiB), `selectivity` times
    /// the rows it returned: the time window on 200,000 orders read 796 buffers through (customer_id, created_at) to
    /// return 27 rows (2026-12-07), under the rows' threshold but just as wasteful.
    public static let minimumBuffers = 100.0

    /// One proposal per Seq Scan whose filter discards most of a table (an index on the filter's operands: equality
    /// keys first, then range keys), and a keyset rewrite where OFFSET makes a Limit read far more rows than it returns.
    public static func proposals(query: String, plan: PlanSummary) -> [QueryProposal] {
        var out: [QueryProposal] = []
        for scan in plan.sequentialScans {
            guard let table = scan.relation, let filter = scan.filter, let perLoop = scan.rowsRemovedByFilter else { continue }
            // EXPLAIN gives rows and removed rows per loop (a parallel scan's workers are loops): compare totals.
            let removed = perLoop * max(1, scan.actualLoops ?? 1)
            let kept = scan.rowsOut
            guard removed >= minimumRemoved, removed >= selectivity * max(1, kept) else { continue }
            let keys = filterKeys(filter)
            guard !keys.isEmpty else { continue }
            let candidate = IndexCandidate(table: table, keys: keys)
            guard !out.contains(where: { $0.index == candidate }) else { continue }
            out.append(QueryProposal(kind: .index, index: candidate,
                                     reason: "\(scan.label) removed \(count(removed)) rows by its filter to keep \(count(kept))"))
        }
        // An index scan that reads far more buffers than the rows it returns: its condition is not on the index's
        // leading column(s) (a whole-index scan), or not selective within it. An index on the condition's keys may do
        // better; HypoPG decides.
        for scan in plan.root.all where ["Index Scan", "Index Only Scan"].contains(scan.nodeType) {
            guard let table = scan.relation, let condition = scan.indexCondition else { continue }
            let buffers = Double((scan.sharedHit ?? 0) + (scan.sharedRead ?? 0)), returned = scan.rowsOut
            guard buffers >= minimumBuffers, buffers >= selectivity * max(1, returned) else { continue }
            // A join's inner side keyed by the outer row (`customer_id = c.id`) is not this rule's.
            guard condition.range(of: #"[=<>]\s+[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\)"#, options: [.regularExpression, .caseInsensitive]) == nil
            else { continue }
            let keys = filterKeys(condition)
            guard !keys.isEmpty else { continue }
            let candidate = IndexCandidate(table: table, keys: keys)
            guard !out.contains(where: { $0.index == candidate }) else { continue }
            out.append(QueryProposal(kind: .index, index: candidate,
                                     reason: "\(scan.label) read \(count(buffers)) buffers to return \(count(returned)) rows: its condition is not what the index leads with"))
        }
        if hasOffset(query) {
            for limit in plan.root.all where limit.nodeType == "Limit" {
                guard let child = limit.children.first else { continue }
                let read = child.rowsOut, returned = limit.rowsOut
                if read >= selectivity * max(1, returned) {
                    out.append(QueryProposal(kind: .rewrite, rewrite: QueryProposal.keyset,
                                             reason: "OFFSET: the Limit read \(count(read)) rows from \(child.label) to return \(count(returned)); "
                                                + "an index cannot skip rows, so page after the last key seen instead (WHERE key < $last ORDER BY key DESC LIMIT n)"))
                    break
                }
            }
        }
        return out
    }

    /// Whether the statement pages with OFFSET.
    public static func hasOffset(_ query: String) -> Bool {
        query.range(of: #"\bOFFSET\s+(\$\d+|\d+)"#, options: [.regularExpression, .caseInsensitive]) != nil
    }

    /// The indexable operands of a scan filter, equality first, then ranges, each once, aliases dropped:
    /// `((created_at >= '…'::timestamp with time zone) AND (created_at < '…'))` → ["created_at"];
    /// `(lower(c.email) = 'x'::text)` → ["lower(email)"]. `<>`, LIKE and OR-ed filters give nothing.
    public static func filterKeys(_ filter: String) -> [String] {
        if filter.range(of: #"\)\s+OR\s+\("#, options: .regularExpression) != nil { return [] }
        let pattern = #"\(\s*((?:[a-z_][a-z0-9_]*\()?(?:[a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*\)?)\s*(=|<=|>=|<|>)\s"#
        guard let re = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) else { return [] }
        var equality: [String] = [], range: [String] = []
        let ns = filter as NSString
        for m in re.matches(in: filter, range: NSRange(location: 0, length: ns.length)) {
            var operand = ns.substring(with: m.range(at: 1))
            let op = ns.substring(with: m.range(at: 2))
            // An unbalanced ")" belongs to the enclosing parenthesis, not to the operand.
            if operand.hasSuffix(")"), !operand.contains("(") { operand.removeLast() }
            operand = operand.replacingOccurrences(of: #"\b[a-z_][a-z0-9_]*\."#, with: "", options: [.regularExpression, .caseInsensitive])
            if ["true", "false", "null"].contains(operand.lowercased()) { continue }
            if op == "=" {
                if !equality.contains(operand) { equality.append(operand) }
            } else if !range.contains(operand) {
                range.append(operand)
            }
        }
        return equality + range.filter { !equality.contains($0) }
    }

    static func count(_ v: Double) -> String {
        let f = NumberFormatter()
        f.numberStyle = .decimal
        f.maximumFractionDigits = 0
        f.locale = Locale(identifier: "en_US")
        return f.string(from: NSNumber(value: v.rounded())) ?? String(Int(v))
    }
}

/// HypoPG's costing of one candidate: the planner's cost of the statement without it and with it as a
/// hypothetical index (plain EXPLAIN), and whether the plan used it.
public struct HypoCheck: Codable, Sendable, Equatable {
    public var index: IndexCandidate
    public var costWithout: Double
    public var costWith: Double
    public var used: Bool

    public init(index: IndexCandidate, costWithout: Double, costWith: Double, used: Bool) {
        self.index = index
        self.costWithout = costWithout
        self.costWith = costWith
        self.used = used
    }

    /// Built only when the planner used the hypothetical index and it cuts the cost by at least `minimumGain` (10 %).
    public var worthBuilding: Bool { used && costWith <= costWithout * (1 - Self.minimumGain) }
    public static let minimumGain = 0.1

    /// Whether a plain EXPLAIN's plan uses a hypothetical index (HypoPG names them `<oid>btree_…`).
    public static func usesHypothetical(_ plan: PlanSummary) -> Bool {
        plan.root.all.contains { ($0.indexName ?? "").hasPrefix("<") }
    }
}
