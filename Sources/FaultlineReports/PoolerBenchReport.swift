import Faultline
import Foundation

/// `faultline bench pooler`'s outputs: pooler.md (the headline ratios, then every cell's medians), pooler.json (the
/// whole `PoolerBenchResult`, every round included) and pooler.svg (the TPS ratio of each cell against direct).
public enum PoolerBenchReport {
    /// The files of one bench, by name.
    public static func files(_ r: PoolerBenchResult) throws -> [(name: String, content: String)] {
        [("pooler.md", markdown(r)), ("pooler.json", try json(r)), ("pooler.svg", svg(r))]
    }

    public static func json(_ r: PoolerBenchResult) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try e.encode(r), as: UTF8.self) + "\n"
    }

    public static func decode(_ json: String) throws -> PoolerBenchResult {
        try JSONDecoder().decode(PoolerBenchResult.self, from: Data(json.utf8))
    }

    // MARK: - Markdown

    static func f(_ v: Double?, _ digits: Int = 1) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "–" }
    static func ratio(_ v: Double?) -> String { v.map { String(format: "%.2f×", $0) } ?? "–" }
    static func count(_ v: Double?) -> String {
        guard let v else { return "–" }
        return v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v)
    }

    /// The groups of cells compared with one another: same workload, clients and connection policy.
    static func groups(_ r: PoolerBenchResult) -> [[PoolerCellSummary]] {
        var out: [[PoolerCellSummary]] = []
        for s in r.cells {
            if let last = out.last?.last?.cell, last.workload == s.cell.workload, last.clients == s.cell.clients, last.connect == s.cell.connect {
                out[out.count - 1].append(s)
            } else {
                out.append([s])
            }
        }
        return out
    }

    public static func markdown(_ r: PoolerBenchResult) -> String {
        let s = r.settings
        var o = "# Pooler bench: direct against PgBouncer in transaction and session mode\n\n"
        o += "`\(r.command)`\n\n"
        o += "Started \(r.startedAt)" + (r.commit.map { ", commit \($0)" } ?? "") + ". "
        o += "\(s.rounds) round\(s.rounds == 1 ? "" : "s") of \(r.cells.count) cells, \(f(Double(s.cellMs) / 1000)) s each after a \(f(Double(s.warmupMs) / 1000)) s warm-up, closed loop; "
        o += "each round in the opposite order of the one before; every figure is the median over the rounds.\n"
        if let m = r.maxConnections { o += "PostgreSQL's max_connections: \(m).\n" }
        for n in r.notes { o += "\n- \(n)" }
        if !r.notes.isEmpty { o += "\n" }
        o += "\n## Headline: each cell against direct (TPS ratio; p50 and p99 latency ratio)\n\n"
        o += "| workload | clients | connect | PgBouncer transaction TPS | p50 | p99 | PgBouncer session TPS | p50 | p99 |\n"
        o += "|---|---:|---|---:|---:|---:|---:|---:|---:|\n"
        for g in groups(r) {
            let c = g[0].cell
            func cols(_ route: PoolerRoute) -> String {
                guard let x = g.first(where: { $0.cell.route == route })?.ratio else { return "– | – | –" }
                return "\(ratio(x.tps)) | \(ratio(x.p50)) | \(ratio(x.p99))"
            }
            o += "| \(c.workload) | \(c.clients) | \(c.connect.rawValue) | \(cols(.transaction)) | \(cols(.session)) |\n"
        }
        o += "\n## Every cell (medians over the rounds)\n\n"
        o += "Errors are per round; too-many-connections (the server had no free slot) apart from the rest. Server connections: "
        o += "the most client backends on the primary that came through HAProxy (the direct clients, PgBouncer's server connections), sampled every 100 ms.\n\n"
        o += "| workload | clients | connect | route | TPS | × direct | p50 ms | p95 ms | p99 ms | connect p50 ms | connect p99 ms | too many conns | other errors | server conns |\n"
        o += "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for x in r.cells {
            let c = x.cell, m = x.median
            o += "| \(c.workload) | \(c.clients) | \(c.connect.rawValue) | \(c.route.label) | \(f(m.tps)) | \(c.route == .direct ? "1" : ratio(x.ratio?.tps)) "
            o += "| \(f(m.p50Ms, 2)) | \(f(m.p95Ms, 2)) | \(f(m.p99Ms, 2)) | \(f(m.connectP50Ms, 2)) | \(f(m.connectP99Ms, 2)) "
            o += "| \(count(m.tooManyConnections)) | \(count(m.otherErrors)) | \(count(m.serverConnectionsPeak)) |\n"
        }
        let kinds = errorKinds(r)
        if !kinds.isEmpty || r.cells.contains(where: { $0.runs.contains { $0.failure != nil } }) {
            o += "\n## Errors by kind (all rounds)\n\n"
            for x in r.cells {
                var all: [String: Int] = [:]
                for run in x.runs {
                    for (k, v) in run.errors { all[k.rawValue, default: 0] += v }
                    for (k, v) in run.otherSQLStates { all["other_sqlstate \(k)", default: 0] += v }
                }
                all.removeValue(forKey: Outcome.otherSQLState.rawValue)
                guard !all.isEmpty else { continue }
                o += "- \(x.cell): " + all.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "\n"
            }
        }
        let failed = r.cells.flatMap { x in x.runs.compactMap { run in run.failure.map { (x.cell, run.round, $0) } } }
        if !failed.isEmpty {
            o += "\n## Cells that could not start\n\n"
            for (cell, round, why) in failed { o += "- \(cell), round \(round + 1): \(why)\n" }
        }
        return o
    }

    static func errorKinds(_ r: PoolerBenchResult) -> Set<Outcome> {
        Set(r.cells.flatMap { $0.runs.flatMap { $0.errors.keys } })
    }

    // MARK: - SVG

    static let routeColours: [PoolerRoute: String] = [.direct: "#6b7280", .transaction: "#2563eb", .session: "#d97706"]

    /// A grouped horizontal bar chart: per group (workload, clients, connection policy) one bar per route, its TPS
    /// against direct's; the dashed line is 1×. Self-contained: inline attributes, no CSS or script.
    public static func svg(_ r: PoolerBenchResult) -> String {
        let gs = groups(r)
        let width = 860.0, left = 230.0, right = 190.0, top = 56.0, barH = 14.0, gap = 4.0, groupGap = 14.0
        let maxRatio = max(1.2, r.cells.compactMap { $0.cell.route == .direct ? 1 : $0.ratio?.tps }.max() ?? 1)
        let ticks = Axis.linearTicks(from: 0, to: maxRatio, target: 5)
        let top1 = max(ticks.last ?? maxRatio, maxRatio)
        func x(_ v: Double) -> Double { left + min(max(v, 0), top1) / top1 * (width - left - right) }
        let plotH = gs.reduce(0.0) { $0 + Double($1.count) * (barH + gap) + groupGap }
        let height = top + plotH + 40
        var o = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(num(width)) \(num(height))\" width=\"\(num(width))\" height=\"\(num(height))\""
        o += " font-family=\"sans-serif\" font-size=\"11\" role=\"img\" aria-label=\"TPS against direct per cell\">\n"
        let rounds = "\(r.settings.rounds) round\(r.settings.rounds == 1 ? "" : "s")"
        o += "<title>Pooler bench: TPS of each cell against direct (median over \(rounds))</title>\n"
        o += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        o += "<text x=\"10\" y=\"18\" font-size=\"14\" font-weight=\"bold\">TPS against direct (median over \(rounds), \(esc(r.startedAt)))</text>\n"
        var lx = 10.0
        for route in PoolerRoute.allCases {
            o += "<rect x=\"\(num(lx))\" y=\"28\" width=\"10\" height=\"10\" fill=\"\(routeColours[route]!)\"/>"
            o += "<text x=\"\(num(lx + 14))\" y=\"37\">\(esc(route.label))</text>\n"
            lx += 170
        }
        for t in ticks {
            o += "<line x1=\"\(num(x(t)))\" x2=\"\(num(x(t)))\" y1=\"\(num(top - 6))\" y2=\"\(num(top + plotH))\" stroke=\"#e5e7eb\"/>"
            o += "<text x=\"\(num(x(t)))\" y=\"\(num(top + plotH + 16))\" text-anchor=\"middle\">\(esc(shortNum(t)))×</text>\n"
        }
        o += "<line x1=\"\(num(x(1)))\" x2=\"\(num(x(1)))\" y1=\"\(num(top - 6))\" y2=\"\(num(top + plotH))\" stroke=\"#111827\" stroke-dasharray=\"4 3\"/>\n"
        var y = top
        for g in gs {
            let c = g[0].cell
            o += "<text x=\"\(num(left - 8))\" y=\"\(num(y + barH))\" text-anchor=\"end\">\(esc("\(c.workload) · \(c.clients) clients · \(c.connect.rawValue)"))</text>\n"
            for s in g {
                let v = s.cell.route == .direct ? (s.median.tps > 0 ? 1 : 0) : (s.ratio?.tps ?? 0)
                o += "<rect x=\"\(num(left))\" y=\"\(num(y))\" width=\"\(num(max(0.5, x(v) - left)))\" height=\"\(num(barH))\" fill=\"\(routeColours[s.cell.route]!)\">"
                o += "<title>\(esc("\(s.cell): \(f(s.median.tps)) TPS, \(ratio(v))"))</title></rect>"
                var label = "\(ratio(v))  \(f(s.median.tps, 0)) TPS"
                if s.median.tooManyConnections > 0 { label += "  too many conns" }
                if s.median.otherErrors > 0 { label += "  \(count(s.median.otherErrors)) errors" }
                o += "<text x=\"\(num(x(v) + 4))\" y=\"\(num(y + barH - 3))\">\(esc(label))</text>\n"
                y += barH + gap
            }
            y += groupGap
        }
        o += "</svg>\n"
        return o
    }

    private static func esc(_ s: String) -> String { Render.esc(s) }
}
