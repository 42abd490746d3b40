import Foundation

/// One node of an EXPLAIN plan (FORMAT JSON), with what the report needs. The actual figures are nil for a plain
/// EXPLAIN (without ANALYZE, as HypoPG's costing is).
public struct PlanNode: Codable, Sendable, Equatable {
    public var nodeType: String
    public var relation: String?
    public var alias: String?
    public var indexName: String?
    public var scanDirection: String?
    public var filter: String?
    public var indexCondition: String?
    public var startupCost: Double
    public var totalCost: Double
    public var planRows: Double
    public var actualRows: Double?
    public var actualLoops: Double?
    public var actualTotalMs: Double?
    public var rowsRemovedByFilter: Double?
    public var sharedHit: Int?
    public var sharedRead: Int?
    public var children: [PlanNode]

    public init(nodeType: String, relation: String? = nil, alias: String? = nil, indexName: String? = nil, scanDirection: String? = nil,
                filter: String? = nil, indexCondition: String? = nil, startupCost: Double = 0, totalCost: Double = 0, planRows: Double = 0,
                actualRows: Double? = nil, actualLoops: Double? = nil, actualTotalMs: Double? = nil, rowsRemovedByFilter: Double? = nil,
                sharedHit: Int? = nil, sharedRead: Int? = nil, children: [PlanNode] = []) {
        self.nodeType = nodeType
        self.relation = relation
        self.alias = alias
        self.indexName = indexName
        self.scanDirection = scanDirection
        self.filter = filter
        self.indexCondition = indexCondition
        self.startupCost = startupCost
        self.totalCost = totalCost
        self.planRows = planRows
        self.actualRows = actualRows
        self.actualLoops = actualLoops
        self.actualTotalMs = actualTotalMs
        self.rowsRemovedByFilter = rowsRemovedByFilter
        self.sharedHit = sharedHit
        self.sharedRead = sharedRead
        self.children = children
    }

    /// This node and every node below it, depth first.
    public var all: [PlanNode] { [self] + children.flatMap(\.all) }

    /// Rows this node produced over all its loops (actual), else the planner's estimate.
    public var rowsOut: Double { (actualRows ?? planRows) * max(1, actualLoops ?? 1) }

    /// "Seq Scan on orders", "Index Scan Backward using orders_pkey on orders", "Limit".
    public var label: String {
        var s = nodeType
        if nodeType.hasPrefix("Index") || nodeType.hasPrefix("Bitmap Index"), scanDirection == "Backward" { s += " Backward" }
        if let i = indexName { s += " using \(i)" }
        if let r = relation { s += " on \(r)" + (alias.map { $0 != r ? " \($0)" : "" } ?? "") }
        return s
    }
}

/// EXPLAIN's answer, summarised: the plan tree, the planner's cost, the times and buffers.
public struct PlanSummary: Codable, Sendable, Equatable {
    public var root: PlanNode
    public var planningMs: Double?
    public var executionMs: Double?

    public init(root: PlanNode, planningMs: Double? = nil, executionMs: Double? = nil) {
        self.root = root
        self.planningMs = planningMs
        self.executionMs = executionMs
    }

    /// The planner's total cost of the whole plan.
    public var totalCost: Double { root.totalCost }
    /// Shared buffers hit and read by the whole plan (the root's figures include its children's).
    public var sharedHit: Int { root.sharedHit ?? 0 }
    public var sharedRead: Int { root.sharedRead ?? 0 }
    /// Every node's label, depth first, e.g. ["Limit", "Seq Scan on orders"].
    public var nodeLabels: [String] { root.all.map(\.label) }
    /// The scans that read a whole table.
    public var sequentialScans: [PlanNode] { root.all.filter { $0.nodeType == "Seq Scan" } }

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Parses `EXPLAIN (FORMAT JSON)` output: a one-element array holding `Plan`, and with ANALYZE `Planning Time`
    /// and `Execution Time`.
    public static func parse(json text: String) throws(ParseError) -> PlanSummary {
        guard let data = text.data(using: .utf8),
              let any = try? JSONSerialization.jsonObject(with: data),
              let top = (any as? [Any])?.first as? [String: Any] ?? any as? [String: Any],
              let plan = top["Plan"] as? [String: Any] else {
            throw ParseError(description: "not EXPLAIN (FORMAT JSON) output: \(text.prefix(80))")
        }
        return PlanSummary(root: node(plan), planningMs: number(top["Planning Time"]), executionMs: number(top["Execution Time"]))
    }

    static func number(_ v: Any?) -> Double? {
        if let d = v as? Double { return d }
        if let i = v as? Int { return Double(i) }
        if let n = v as? NSNumber { return n.doubleValue }
        return nil
    }

    static func node(_ p: [String: Any]) -> PlanNode {
        PlanNode(nodeType: p["Node Type"] as? String ?? "?", relation: p["Relation Name"] as? String, alias: p["Alias"] as? String,
                 indexName: p["Index Name"] as? String, scanDirection: p["Scan Direction"] as? String,
                 filter: p["Filter"] as? String, indexCondition: p["Index Cond"] as? String,
                 startupCost: number(p["Startup Cost"]) ?? 0, totalCost: number(p["Total Cost"]) ?? 0, planRows: number(p["Plan Rows"]) ?? 0,
                 actualRows: number(p["Actual Rows"]), actualLoops: number(p["Actual Loops"]), actualTotalMs: number(p["Actual Total Time"]),
                 rowsRemovedByFilter: number(p["Rows Removed by Filter"]),
                 sharedHit: number(p["Shared Hit Blocks"]).map { Int($0) }, sharedRead: number(p["Shared Read Blocks"]).map { Int($0) },
                 children: (p["Plans"] as? [[String: Any]] ?? []).map(node))
    }

    /// The plan as indented text lines, EXPLAIN's own shape:
    /// `Limit (cost=0.42..1.20 rows=20) (actual 12.300 ms, rows=20 loops=1)` then `  Filter: ...`, children indented.
    public var lines: [String] {
        var out: [String] = []
        func walk(_ n: PlanNode, _ depth: Int) {
            let pad = String(repeating: "  ", count: depth)
            var line = pad + (depth > 0 ? "-> " : "") + n.label + String(format: " (cost=%.2f..%.2f rows=%.0f)", n.startupCost, n.totalCost, n.planRows)
            if let ms = n.actualTotalMs { line += String(format: " (actual %.3f ms rows=%.0f loops=%.0f)", ms, n.actualRows ?? 0, n.actualLoops ?? 1) }
            out.append(line)
            let inner = pad + (depth > 0 ? "   " : "  ")
            if let c = n.indexCondition { out.append(inner + "Index Cond: " + c) }
            if let f = n.filter { out.append(inner + "Filter: " + f) }
            if let r = n.rowsRemovedByFilter { out.append(inner + String(format: "Rows Removed by Filter: %.0f", r)) }
            if n.sharedHit != nil || n.sharedRead != nil { out.append(inner + "Buffers: shared hit=\(n.sharedHit ?? 0) read=\(n.sharedRead ?? 0)") }
            for c in n.children { walk(c, depth + 1) }
        }
        walk(root, 0)
        if let p = planningMs { out.append(String(format: "Planning Time: %.3f ms", p)) }
        if let e = executionMs { out.append(String(format: "Execution Time: %.3f ms", e)) }
        return out
    }
}
