import Foundation
import Faultline

/// The failover RTO report across runs (`faultline report rto`): per scenario, the runs, how many passed,
/// the RTO's spread, the median of each recovery step and the writes lost or indeterminate, summed.
/// Built from `report.json` files only.
public struct RTOReport: Codable, Sendable, Equatable {
    /// One run, as read from its report.
    public struct Run: Codable, Sendable, Equatable {
        public var runId: String
        public var scenario: String
        public var startedAt: String
        public var status: String
        /// The RTO verdict's measured value; nil when not measured (never recovered, skipped, no fault).
        public var rtoMs: Int?
        public var detectionMs: Int?
        public var promotionMs: Int?
        public var routingMs: Int?
        public var serviceRestoredMs: Int?
        public var applicationRecoveredMs: Int?
        public var lostWrites: Int
        public var indeterminateWrites: Int

        public init(_ r: RunReport) {
            runId = r.runId
            scenario = r.scenario.name
            startedAt = r.startedAt
            status = r.status
            rtoMs = r.verdicts.first { $0.id == "rto" }?.result.measured.map { Int($0.value) }
            detectionMs = r.recovery?.detectionMs
            promotionMs = r.recovery?.promotionMs
            routingMs = r.recovery?.firstWriteAfterPromotionMs
            serviceRestoredMs = r.recovery?.serviceRestoredMs
            applicationRecoveredMs = r.recovery?.recoveryMs
            let lost = r.verdicts.first { $0.id == "lost-writes" }
            lostWrites = lost?.result.measured.map { Int($0.value) } ?? lost?.items.count ?? 0
            indeterminateWrites = r.observations.load.indeterminate.count
        }
    }

    /// min / median / p95 / max of a set of ms values.
    public struct Spread: Codable, Sendable, Equatable {
        public var min: Int
        public var median: Double
        public var p95: Int
        public var max: Int
    }

    public struct Scenario: Codable, Sendable, Equatable {
        public var scenario: String
        public var runs: Int
        public var passed: Int
        /// How many runs have a measured RTO (the spread is over these).
        public var measured: Int
        public var rto: Spread?
        /// The median of each recovery step over the runs that saw it, ms since injection.
        public var medianDetectionMs: Double?
        public var medianPromotionMs: Double?
        public var medianRoutingMs: Double?
        public var medianServiceRestoredMs: Double?
        public var medianApplicationRecoveredMs: Double?
        public var lostWrites: Int
        public var indeterminateWrites: Int
        /// Every run, oldest first.
        public var series: [Run]
    }

    public var reports: Int
    public var scenarios: [Scenario]

    /// Groups the runs by scenario (sorted by name) and each scenario's runs by start time. A run id seen
    /// twice (the same report copied into two folders) counts once.
    public init(_ reports: [RunReport]) {
        var seen = Set<String>()
        let runs = reports.filter { seen.insert($0.runId).inserted }.map(Run.init)
        self.reports = runs.count
        scenarios = Dictionary(grouping: runs, by: \.scenario).sorted { $0.key < $1.key }.map { name, rs in
            let sorted = rs.sorted { ($0.startedAt, $0.runId) < ($1.startedAt, $1.runId) }
            let rto = sorted.compactMap(\.rtoMs)
            return Scenario(scenario: name, runs: sorted.count, passed: sorted.filter { $0.status == "passed" }.count,
                            measured: rto.count, rto: Self.spread(rto),
                            medianDetectionMs: Self.median(sorted.compactMap(\.detectionMs)),
                            medianPromotionMs: Self.median(sorted.compactMap(\.promotionMs)),
                            medianRoutingMs: Self.median(sorted.compactMap(\.routingMs)),
                            medianServiceRestoredMs: Self.median(sorted.compactMap(\.serviceRestoredMs)),
                            medianApplicationRecoveredMs: Self.median(sorted.compactMap(\.applicationRecoveredMs)),
                            lostWrites: sorted.reduce(0) { $0 + $1.lostWrites },
                            indeterminateWrites: sorted.reduce(0) { $0 + $1.indeterminateWrites }, series: sorted)
        }
    }

    /// The middle value; the mean of the two middle ones for an even count; nil when empty.
    public static func median(_ xs: [Int]) -> Double? {
        guard !xs.isEmpty else { return nil }
        let s = xs.sorted(), n = s.count
        return n % 2 == 1 ? Double(s[n / 2]) : Double(s[n / 2 - 1] + s[n / 2]) / 2
    }

    /// Nearest rank: the smallest value with at least `p` of the values at or below it; nil when empty.
    public static func percentile(_ xs: [Int], _ p: Double) -> Int? {
        guard !xs.isEmpty else { return nil }
        let s = xs.sorted()
        let rank = Int((p * Double(s.count)).rounded(.up))
        return s[min(s.count, max(1, rank)) - 1]
    }

    public static func spread(_ xs: [Int]) -> Spread? {
        guard let lo = xs.min(), let hi = xs.max(), let med = median(xs), let p95 = percentile(xs, 0.95) else { return nil }
        return Spread(min: lo, median: med, p95: p95, max: hi)
    }
}

extension Render {
    /// `rto.json`: the RTO report, pretty, keys sorted.
    public static func rtoJSON(_ r: RTOReport) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(r), as: UTF8.self) + "\n"
    }

    private static func sec(_ ms: Double?) -> String {
        guard let ms else { return "–" }
        return num(ms / 1000) + " s"
    }

    /// `rto.md`: one table row per scenario, then each scenario's runs.
    public static func rtoMarkdown(_ r: RTOReport) -> String {
        var md = "# Failover RTO across runs\n\n\(r.reports) report(s). RTO: the `rto` verdict's measured value, from the injection. "
            + "Steps: medians since the injection over the runs that saw them. Lost and indeterminate: summed over the runs.\n\n"
        md += "| scenario | runs | passed | RTO min / median / p95 / max | detection | promotion | routing | service restored | application recovered | lost | indeterminate |\n"
        md += "|---|---|---|---|---|---|---|---|---|---|---|\n"
        for s in r.scenarios {
            let spread = s.rto.map { "\(sec(Double($0.min))) / \(sec($0.median)) / \(sec(Double($0.p95))) / \(sec(Double($0.max)))" } ?? "not measured"
            md += "| `\(s.scenario)` | \(s.runs) | \(s.passed) | \(spread)\(s.measured < s.runs ? " (\(s.measured) measured)" : "") | "
            md += [s.medianDetectionMs, s.medianPromotionMs, s.medianRoutingMs, s.medianServiceRestoredMs, s.medianApplicationRecoveredMs]
                .map(sec).joined(separator: " | ")
            md += " | \(s.lostWrites) | \(s.indeterminateWrites) |\n"
        }
        for s in r.scenarios {
            md += "\n## \(s.scenario)\n\n| run | started | status | RTO | lost | indeterminate |\n|---|---|---|---|---|---|\n"
            for run in s.series {
                md += "| `\(run.runId)` | \(run.startedAt) | \(run.status) | \(sec(run.rtoMs.map(Double.init))) | \(run.lostWrites) | \(run.indeterminateWrites) |\n"
            }
        }
        return md
    }

    /// `rto.html`: the same tables, with each scenario's RTO histogram and its trend by run date, as inline SVG.
    public static func rtoHTML(_ r: RTOReport) -> String {
        var h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Failover RTO across runs</title>\n<style>\(css)</style>\n</head>\n<body>\n"
        h += "<header><h1>Failover RTO across runs</h1><p class=\"summary\">\(r.reports) report(s). RTO: the <code>rto</code> verdict's measured value, "
            + "from the injection. Steps: medians since the injection. Lost and indeterminate writes: summed over the runs.</p></header>\n"
        h += "<section id=\"summary\"><table class=\"verdicts\"><thead><tr><th>scenario</th><th>runs</th><th>passed</th><th>RTO min</th><th>median</th><th>p95</th><th>max</th>"
            + "<th>detection</th><th>promotion</th><th>routing</th><th>service restored</th><th>application recovered</th><th>lost</th><th>indeterminate</th></tr></thead><tbody>\n"
        for s in r.scenarios {
            h += "<tr class=\"\(s.passed == s.runs ? "passed" : "failed")\" data-scenario=\"\(esc(s.scenario))\"><td>\(esc(s.scenario))</td><td>\(s.runs)</td><td>\(s.passed)</td>"
            let cells: [Double?] = [s.rto.map { Double($0.min) }, s.rto?.median, s.rto.map { Double($0.p95) }, s.rto.map { Double($0.max) },
                                    s.medianDetectionMs, s.medianPromotionMs, s.medianRoutingMs, s.medianServiceRestoredMs, s.medianApplicationRecoveredMs]
            h += cells.map { "<td>\(sec($0))</td>" }.joined() + "<td>\(s.lostWrites)</td><td>\(s.indeterminateWrites)</td></tr>\n"
        }
        h += "</tbody></table></section>\n"
        for (i, s) in r.scenarios.enumerated() {
            h += "<section class=\"scenario\" id=\"scenario-\(i)\"><h2>\(esc(s.scenario))</h2>\n"
            h += "<div class=\"pair\"><figure class=\"figure\"><figcaption>RTO histogram</figcaption>\n" + rtoHistogram(s, id: "hist-\(i)") + "</figure>\n"
            h += "<figure class=\"figure\"><figcaption>RTO by run date</figcaption>\n" + rtoTrend(s, id: "trend-\(i)") + "</figure></div>\n"
            h += "<table class=\"small\"><thead><tr><th>run</th><th>started</th><th>status</th><th>RTO</th><th>lost</th><th>indeterminate</th></tr></thead><tbody>\n"
            for run in s.series {
                h += "<tr class=\"\(statusRow(run.status))\"><td>\(esc(run.runId))</td><td>\(esc(run.startedAt))</td><td class=\"result\">\(esc(run.status))</td>"
                h += "<td>\(sec(run.rtoMs.map(Double.init)))</td><td>\(run.lostWrites)</td><td>\(run.indeterminateWrites)</td></tr>\n"
            }
            h += "</tbody></table></section>\n"
        }
        return h + "<footer>Faultline RTO report, from report.json files only.</footer>\n</body>\n</html>\n"
    }

    private static func statusRow(_ s: String) -> String { s == "passed" ? "passed" : s == "harness-error" ? "error" : "failed" }

    /// Bins of a 1-2-5 width over the measured RTOs.
    static func histogramBins(_ xs: [Int], target: Int = 10) -> [(fromMs: Int, count: Int)] {
        guard let lo = xs.min(), let hi = xs.max() else { return [] }
        let width = max(1, Int(Axis.niceStep(span: Double(max(hi - lo, 1)), target: target)))
        let first = (lo / width) * width
        let n = (hi - first) / width + 1
        var counts = [Int](repeating: 0, count: n)
        for x in xs { counts[(x - first) / width] += 1 }
        return counts.enumerated().map { (first + $0.offset * width, $0.element) }
    }

    private static func rtoHistogram(_ s: RTOReport.Scenario, id: String) -> String {
        let w = 560.0, hgt = 220.0, l = 40.0, rgt = 10.0, t = 10.0, b = 34.0
        let bins = histogramBins(s.series.compactMap(\.rtoMs))
        var o = "<svg class=\"chart histogram\" id=\"\(id)\" viewBox=\"0 0 \(num(w)) \(num(hgt))\" data-series=\"rto\" role=\"img\" aria-label=\"RTO histogram\">\n"
        o += "<rect class=\"plot\" x=\"\(num(l))\" y=\"\(num(t))\" width=\"\(num(w - l - rgt))\" height=\"\(num(hgt - t - b))\"/>\n"
        guard !bins.isEmpty else { return o + "<text class=\"empty\" x=\"\(num(w / 2))\" y=\"\(num(hgt / 2))\">no RTO measured</text></svg>\n" }
        let maxC = Double(bins.map(\.count).max() ?? 1)
        let bw = (w - l - rgt) / Double(bins.count)
        let binWidth = bins.count > 1 ? bins[1].fromMs - bins[0].fromMs : 1_000
        for c in Axis.linearTicks(from: 0, to: maxC, target: 4) where c == c.rounded() {
            let y = hgt - b - c / maxC * (hgt - t - b)
            o += "<line class=\"grid\" x1=\"\(num(l))\" x2=\"\(num(w - rgt))\" y1=\"\(num(y))\" y2=\"\(num(y))\"/><text class=\"ytick\" x=\"\(num(l - 4))\" y=\"\(num(y + 4))\">\(Int(c))</text>\n"
        }
        for (i, bin) in bins.enumerated() {
            let hh = Double(bin.count) / maxC * (hgt - t - b)
            o += "<rect class=\"series bar\" data-series=\"rto\" x=\"\(num(l + Double(i) * bw + 1))\" y=\"\(num(hgt - b - hh))\" width=\"\(num(max(1, bw - 2)))\" height=\"\(num(hh))\">"
            o += "<title>\(sec(Double(bin.fromMs)))–\(sec(Double(bin.fromMs + binWidth))): \(bin.count) run(s)</title></rect>\n"
            if bins.count <= 12 || i % 2 == 0 {
                o += "<text class=\"xtick\" x=\"\(num(l + Double(i) * bw + bw / 2))\" y=\"\(num(hgt - b + 14))\">\(sec(Double(bin.fromMs)))</text>\n"
            }
        }
        return o + "<text class=\"yunit\" x=\"\(num(w / 2))\" y=\"\(num(hgt - 4))\">RTO (bin start)</text></svg>\n"
    }

    private static func rtoTrend(_ s: RTOReport.Scenario, id: String) -> String {
        let w = 560.0, hgt = 220.0, l = 46.0, rgt = 10.0, t = 10.0, b = 34.0
        let pts = s.series.enumerated().compactMap { i, run in run.rtoMs.map { (i, run, Double($0)) } }
        var o = "<svg class=\"chart trend\" id=\"\(id)\" viewBox=\"0 0 \(num(w)) \(num(hgt))\" data-series=\"rto\" role=\"img\" aria-label=\"RTO by run date\">\n"
        o += "<rect class=\"plot\" x=\"\(num(l))\" y=\"\(num(t))\" width=\"\(num(w - l - rgt))\" height=\"\(num(hgt - t - b))\"/>\n"
        guard !pts.isEmpty else { return o + "<text class=\"empty\" x=\"\(num(w / 2))\" y=\"\(num(hgt / 2))\">no RTO measured</text></svg>\n" }
        // x: run order by start date (dates label the first and the last run); y: RTO from 0.
        let maxY = max(pts.map(\.2).max() ?? 1, 1)
        let ticks = Axis.linearTicks(from: 0, to: maxY, target: 4)
        let top = max(ticks.last ?? maxY, maxY)
        let n = max(1, s.series.count - 1)
        func x(_ i: Int) -> Double { s.series.count == 1 ? (l + w - rgt) / 2 : l + 8 + Double(i) / Double(n) * (w - l - rgt - 16) }
        func y(_ v: Double) -> Double { hgt - b - v / top * (hgt - t - b) }
        for v in ticks {
            o += "<line class=\"grid\" x1=\"\(num(l))\" x2=\"\(num(w - rgt))\" y1=\"\(num(y(v)))\" y2=\"\(num(y(v)))\"/><text class=\"ytick\" x=\"\(num(l - 4))\" y=\"\(num(y(v) + 4))\">\(sec(v))</text>\n"
        }
        o += "<path class=\"series line\" data-series=\"rto\" stroke=\"#1f77b4\" d=\"M" + pts.map { "\(num(x($0.0))),\(num(y($0.2)))" }.joined(separator: "L") + "\"/>\n"
        for p in pts {
            o += "<circle class=\"point \(statusRow(p.1.status))\" cx=\"\(num(x(p.0)))\" cy=\"\(num(y(p.2)))\" r=\"3.5\"><title>\(esc(p.1.runId)) \(esc(p.1.startedAt)): \(sec(p.2)), \(esc(p.1.status))</title></circle>\n"
        }
        let firstDate = String(s.series.first!.startedAt.prefix(10)), lastDate = String(s.series.last!.startedAt.prefix(10))
        o += "<text class=\"xtick\" text-anchor=\"start\" style=\"text-anchor:start\" x=\"\(num(x(0) - 6))\" y=\"\(num(hgt - b + 14))\">\(esc(firstDate))</text>"
        if s.series.count > 1 { o += "<text class=\"xtick\" style=\"text-anchor:end\" x=\"\(num(x(s.series.count - 1)))\" y=\"\(num(hgt - b + 14))\">\(esc(lastDate))</text>" }
        return o + "\n<text class=\"yunit\" x=\"\(num(w / 2))\" y=\"\(num(hgt - 4))\">runs in order of start</text></svg>\n"
    }
}
