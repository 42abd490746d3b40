import Foundation
import Faultline

/// Pure renderers: a report in, a file's text out. `ReportWriter` does the file I/O.
public enum Render {
    /// `report.json`: the whole report, pretty, keys sorted (stable diffs).
    public static func json(_ report: RunReport) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(report), as: UTF8.self) + "\n"
    }

    /// Reads `report.json` back.
    public static func decode(_ json: String) throws -> RunReport {
        try JSONDecoder().decode(RunReport.self, from: Data(json.utf8))
    }

    static func line<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }

    /// `timeline.jsonl`: runner events and load windows merged in time order, one JSON object a line,
    /// each with `"type": "event"` or `"type": "window"`. Times are ms since the load started.
    public static func timelineLines(_ report: RunReport) throws -> String {
        struct EventLine: Encodable { let type = "event"; let event: TimelineEvent
            enum CodingKeys: String, CodingKey { case type, atMs, kind, member, detail }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(type, forKey: .type)
                try c.encode(event.atMs, forKey: .atMs)
                try c.encode(event.kind, forKey: .kind)
                try c.encodeIfPresent(event.member, forKey: .member)
                try c.encodeIfPresent(event.detail.map(SecretMasker.mask), forKey: .detail)
            }
        }
        struct WindowLine: Encodable { let type = "window"; let window: TimelineWindow
            enum CodingKeys: String, CodingKey { case type, atMs, window }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(type, forKey: .type)
                try c.encode(window.startMs, forKey: .atMs)
                try c.encode(window, forKey: .window)
            }
        }
        var rows: [(Int, Int, String)] = []
        for e in report.observations.events { rows.append((e.atMs, 0, try line(EventLine(event: e)))) }
        for w in report.observations.load.windows { rows.append((w.startMs, 1, try line(WindowLine(window: w)))) }
        return rows.enumerated().sorted { ($0.1.0, $0.1.1, $0.0) < ($1.1.0, $1.1.1, $1.0) }.map { $0.1.2 + "\n" }.joined()
    }

    /// `ledger.jsonl`: every acknowledged write (`"status": "acked"`, `"lost": true` when missing on read-back)
    /// and every indeterminate one (`"status": "indeterminate"`), one a line.
    public static func ledgerLines(_ report: RunReport) throws -> String {
        struct Row: Encodable {
            var status: String
            var id: String
            var startMs: Double
            var ackMs: Double?
            var giveUpMs: Double?
            var server: String?
            var reason: String?
            var lost: Bool?
        }
        let missing = Set(report.observations.readBack.flatMap { $0.error == nil ? $0.missing : nil } ?? [])
        let verified = report.observations.readBack?.error == nil && report.observations.readBack != nil
        var out = ""
        for w in report.observations.load.acked {
            out += try line(Row(status: "acked", id: w.id, startMs: w.startMs, ackMs: w.ackMs, server: w.server,
                                lost: verified ? missing.contains(w.id) : nil)) + "\n"
        }
        for w in report.observations.load.indeterminate {
            out += try line(Row(status: "indeterminate", id: w.id, startMs: w.startMs, giveUpMs: w.giveUpMs,
                                reason: SecretMasker.mask(w.reason))) + "\n"
        }
        return out
    }

    /// `commands.log`: the environment's command lines with secrets masked.
    public static func commandLog(_ lines: [String]) -> String {
        lines.map { SecretMasker.mask($0).replacingOccurrences(of: "\n", with: "\\n") + "\n" }.joined()
    }
}
