import Faultline
import Foundation

/// Writes observations as files anyone can check with jq and psql (format in docs/load.md):
/// `ledger.jsonl`, `indeterminate.jsonl`, `timeline.jsonl` (one JSON object a line) and `summary.json`.
public enum LoadExport {
    public static let ledgerFile = "ledger.jsonl"
    public static let indeterminateFile = "indeterminate.jsonl"
    public static let timelineFile = "timeline.jsonl"
    public static let summaryFile = "summary.json"

    /// What `summary.json` holds: everything but the per-write and per-window lines.
    public struct Summary: Codable, Sendable, Equatable {
        public var runID: String?
        public var durationMs: Double?
        public var loadStartMs: Double?
        public var latency: [String: LatencySummary]
        public var totals: [String: WorkloadTotals]
        /// Ok requests per second, per workload, while the workers were sending (durationMs - loadStartMs).
        public var throughput: [String: Double]
        public var acked: Int
        public var indeterminate: Int
        public var notes: [String]
        /// The configuration, with passwords masked.
        public var config: [String: String]
    }

    public static func summary(of obs: LoadObservations, config: [String: String] = [:]) -> Summary {
        let seconds = max(obs.loadSeconds ?? 0, 1e-9)
        return Summary(runID: obs.runID, durationMs: obs.durationMs, loadStartMs: obs.loadStartMs, latency: obs.latency, totals: obs.totals,
                       throughput: obs.totals.mapValues { ((Double($0.ok) / seconds) * 10).rounded() / 10 },
                       acked: obs.acked.count, indeterminate: obs.indeterminate.count, notes: obs.notes, config: config)
    }

    /// Encodes `items` as JSON Lines (sorted keys, one object a line).
    public static func jsonLines<T: Encodable>(_ items: [T]) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out = Data()
        for item in items {
            out.append(try enc.encode(item))
            out.append(0x0A)
        }
        return out
    }

    /// Writes the four files into `directory` (created if needed); returns their paths.
    @discardableResult
    public static func write(_ obs: LoadObservations, to directory: URL, config: [String: String] = [:]) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let files: [(String, Data)] = [
            (ledgerFile, try jsonLines(obs.acked)),
            (indeterminateFile, try jsonLines(obs.indeterminate)),
            (timelineFile, try jsonLines(obs.windows)),
            (summaryFile, try enc.encode(summary(of: obs, config: config)) + Data([0x0A])),
        ]
        var urls: [URL] = []
        for (name, data) in files {
            let url = directory.appendingPathComponent(name)
            try data.write(to: url, options: .atomic)
            urls.append(url)
        }
        return urls
    }
}
