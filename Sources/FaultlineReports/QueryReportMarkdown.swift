import Faultline
import Foundation

/// `faultline queries report`'s Markdown (report.md) and JSON (report.json) (docs/query-optimization.md).
public enum QueryReportMarkdown {
    static func ms(_ v: Double) -> String { v >= 100 ? String(format: "%.0f", v) : v >= 1 ? String(format: "%.1f", v) : String(format: "%.3f", v) }
    static func ratio(_ r: Double?) -> String {
        guard let r else { return "–" }
        return r < 1 ? String(format: "%.2f× (%.0f× faster)", r, 1 / r) : String(format: "%.2f×", r)
    }
    static func oneLine(_ q: String) -> String { QueryStats.normalised(q).replacingOccurrences(of: "|", with: "\\|") }

    static func ranking(_ title: String, _ stats: [StatementStat]) -> [String] {
        var out = ["### \(title)", "", "| # | statement | calls | total ms | mean ms | rows |", "|---|---|---:|---:|---:|---:|"]
        for (i, s) in stats.enumerated() {
            out.append("| \(i + 1) | `\(oneLine(s.query))` | \(s.calls) | \(ms(s.totalMs)) | \(ms(s.meanMs)) | \(s.rows) |")
        }
        return out + [""]
    }

    public static func render(_ r: QueryReport) -> String {
        var out = ["# Query optimisation report", "",
                   "- Command: `\(r.command)`",
                   "- Date: \(r.date)" + (r.commit.map { ", commit \($0)" } ?? ""),
                   "- Workload: \(r.run.workload), \(r.run.readers) reader(s) and \(r.run.writers) writer(s), closed loop, \(ms(r.run.seconds)) s before and \(ms(r.run.seconds)) s after;"
                    + " \(r.run.orders) orders (highest id), \(r.run.customers) customers", ""]
        out += ["## Before and after (measured by the workload)", "",
                "Read statements' total time: \(ms(r.readTotalBeforeMs)) ms before, \(ms(r.readTotalAfterMs)) ms after"
                    + (r.readTotalBeforeMs > 0 ? String(format: " (%.2f×)", r.readTotalAfterMs / r.readTotalBeforeMs) : "") + ".", "",
                "| statement | kind | calls before | calls after | p50 before | p50 after | p99 before | p99 after | mean ratio | total ms before | total ms after | errors |",
                "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
        for l in r.latency {
            out.append("| \(l.name) | \(l.write ? "write" : "read") | \(l.before.count) | \(l.after.count) | \(ms(l.before.p50Ms)) | \(ms(l.after.p50Ms)) | "
                + "\(ms(l.before.p99Ms)) | \(ms(l.after.p99Ms)) | \(ratio(l.meanRatio)) | \(ms(l.before.totalMs)) | \(ms(l.after.totalMs)) | \(l.before.errors)/\(l.after.errors) |")
        }
        out += ["", "Latencies in ms. The after run replays the before run's requests (each client as many, the same statements and"
                + " parameters). The writes' p50/p99 here include both the new indexes' maintenance and the relief from faster reads"
                + " on the same server; the writes alone (below, when there were writers) isolate the maintenance.", ""]
        if !r.writesAlone.isEmpty {
            out += ["### The writes alone (the indexes' cost to writes)", "",
                    "The writers only, no reads, the same requests before and after the fixes, so the new indexes' maintenance is not hidden by the relief from faster reads.", "",
                    "| statement | calls before | calls after | p50 before | p50 after | p99 before | p99 after | mean ratio | errors |",
                    "|---|---:|---:|---:|---:|---:|---:|---|---:|"]
            for l in r.writesAlone {
                out.append("| \(l.name) | \(l.before.count) | \(l.after.count) | \(ms(l.before.p50Ms)) | \(ms(l.after.p50Ms)) | \(ms(l.before.p99Ms)) | "
                    + "\(ms(l.after.p99Ms)) | \(ratio(l.meanRatio)) | \(l.before.errors)/\(l.after.errors) |")
            }
            out.append("")
        }
        out += ["## pg_stat_statements (before)", ""] + ranking("Top 3 by total time", r.rankedByTotal) + ranking("Top 3 by mean time", r.rankedByMean)
        out += ["## Findings", ""]
        for f in r.findings {
            out += ["### \(f.name ?? "statement \(f.statement.queryID)")", "", "```sql", QueryStats.normalised(f.statement.query), "```", ""]
            if let n = f.note { out += ["Note: \(n)", ""] }
            if !f.parameters.isEmpty { out += ["Representative parameters: " + f.parameters.map { "`\($0)`" }.joined(separator: ", "), ""] }
            if let p = f.planBefore { out += ["Plan before (EXPLAIN (ANALYZE, BUFFERS)):", "", "```"] + p.lines + ["```", ""] }
            if f.proposals.isEmpty && f.planBefore != nil { out += ["Proposals: none (no scan discards most of a table, no OFFSET paging)", ""] }
            for p in f.proposals {
                switch p.kind {
                case .index:
                    let idx = p.index!
                    out.append("- Index `\(idx.name)` \(idx.definition): \(p.reason).")
                    if let h = f.hypo.first(where: { $0.index == idx }) {
                        out.append(String(format: "  HypoPG: planner cost %.2f without, %.2f with the hypothetical index (%@); %@.",
                                          h.costWithout, h.costWith, h.used ? "used" : "not used", h.worthBuilding ? "built" : "not built"))
                    }
                case .rewrite:
                    out.append("- Rewrite (\(p.rewrite ?? "")): \(p.reason).")
                }
            }
            if !f.proposals.isEmpty { out.append("") }
            if let sql = f.sqlAfter, QueryStats.normalised(sql) != QueryStats.normalised(f.statement.query) {
                out += ["Rewritten as:", "", "```sql", sql, "```", "", "with " + f.parametersAfter.map { "`\($0)`" }.joined(separator: ", "), ""]
            }
            if let p = f.planAfter { out += ["Plan after:", "", "```"] + p.lines + ["```", ""] }
        }
        out += ["## Migrations applied", ""]
        if r.migrations.isEmpty { out += ["None.", ""] } else {
            out += ["| revision | index | proposed | seconds |", "|---|---|---|---:|"]
            for m in r.migrations {
                out.append("| \(m.revision) | `CREATE INDEX CONCURRENTLY \(m.index.name) \(m.index.definition)` | \(m.proposed ? "yes" : "no (a later one needed it)") | \(String(format: "%.1f", m.seconds)) |")
            }
            out.append("")
        }
        out += ["## pg_stat_statements (after)", ""] + ranking("Top 3 by total time", r.rankedByTotalAfter)
        return out.joined(separator: "\n")
    }

    public static func json(_ r: QueryReport) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(r)
    }

    /// Writes report.md and report.json into `folder` (created); returns their paths.
    public static func write(_ r: QueryReport, to folder: URL) throws -> [String] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let md = folder.appendingPathComponent("report.md"), js = folder.appendingPathComponent("report.json")
        try Data(render(r).utf8).write(to: md)
        try json(r).write(to: js)
        return [md.path, js.path]
    }
}
