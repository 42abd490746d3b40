import Foundation
import Faultline

/// Bad report input: each a one-line description naming the file (the CLI prints it and exits 2).
public enum ReportInputError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    case noReports(String)
    case unknownSchema(path: String, version: Int)
    case unreadable(path: String, why: String)
    case truncatedTimeline(path: String, line: Int)

    public var description: String {
        switch self {
        case .notFound(let p): "no such file or directory: \(p)"
        case .noReports(let p): "no report.json under \(p)"
        case .unknownSchema(let p, let v):
            "\(p): report schema version \(v) is not known (this faultline reads version \(RunReport.currentSchemaVersion))"
        case .unreadable(let p, let why): "\(p): not a readable report: \(why)"
        case .truncatedTimeline(let p, let n): "\(p) line \(n): not a whole JSON object (truncated?)"
        }
    }
}

/// Reads report directories back: `report.json` (schema version checked first), `timeline.jsonl`, `commands.log`.
public enum ReportReader {
    /// Decodes a `report.json`; an unknown schema version or a broken file is a `ReportInputError`.
    public static func report(at url: URL) throws -> RunReport {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw ReportInputError.notFound(url.path) }
        return try report(data: data, path: url.path)
    }

    public static func report(data: Data, path: String) throws -> RunReport {
        struct Version: Decodable { var schemaVersion: Int }
        let version: Version
        do { version = try JSONDecoder().decode(Version.self, from: data) } catch {
            throw ReportInputError.unreadable(path: path, why: oneLine(error))
        }
        guard version.schemaVersion == RunReport.currentSchemaVersion else {
            throw ReportInputError.unknownSchema(path: path, version: version.schemaVersion)
        }
        do { return try JSONDecoder().decode(RunReport.self, from: data) } catch {
            throw ReportInputError.unreadable(path: path, why: oneLine(error))
        }
    }

    /// The events and windows of a `timeline.jsonl`; a line that is not a whole object names the file and line.
    public static func timeline(text: String, path: String) throws -> (events: [TimelineEvent], windows: [TimelineWindow]) {
        struct Line: Decodable {
            var type: String
            var atMs: Int
            var kind: TimelineEvent.Kind?
            var member: String?
            var detail: String?
            var window: TimelineWindow?
        }
        var events: [TimelineEvent] = [], windows: [TimelineWindow] = []
        let d = JSONDecoder()
        var n = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            n += 1
            if raw.isEmpty { continue }
            guard let l = try? d.decode(Line.self, from: Data(raw.utf8)) else { throw ReportInputError.truncatedTimeline(path: path, line: n) }
            switch (l.type, l.kind, l.window) {
            case ("event", .some(let k), _): events.append(TimelineEvent(atMs: l.atMs, kind: k, member: l.member, detail: l.detail))
            case ("window", _, .some(let w)): windows.append(w)
            default: throw ReportInputError.truncatedTimeline(path: path, line: n)
            }
        }
        // A file cut mid-line has no final newline and its last line fails above; one cut at a line end cannot be told.
        return (events, windows)
    }

    /// Re-renders `dir/report.html` from `report.json`, `timeline.jsonl` (its events and windows replace the
    /// report's when present) and `commands.log`. Returns the file written.
    @discardableResult
    public static func rerenderHTML(dir: URL) throws -> URL {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            throw ReportInputError.notFound(dir.path)
        }
        let json = dir.appendingPathComponent("report.json")
        guard FileManager.default.fileExists(atPath: json.path) else { throw ReportInputError.noReports(dir.path) }
        var r = try report(at: json)
        let tl = dir.appendingPathComponent("timeline.jsonl")
        if let data = FileManager.default.contents(atPath: tl.path) {
            let t = try timeline(text: String(decoding: data, as: UTF8.self), path: tl.path)
            r.observations.events = t.events
            r.observations.load.windows = t.windows
        }
        let log = FileManager.default.contents(atPath: dir.appendingPathComponent("commands.log").path)
        let commands = log.map { String(decoding: $0, as: UTF8.self).split(separator: "\n").map(String.init) } ?? []
        let out = dir.appendingPathComponent("report.html")
        try Data(Render.html(r, commands: commands).utf8).write(to: out, options: .atomic)
        return out
    }

    /// Every `report.json` in `paths`: a report directory, a `report.json` itself, or a folder searched
    /// recursively; sorted by path. None at all is `noReports`.
    public static func reportFiles(_ paths: [String]) throws -> [URL] {
        var out: [URL] = []
        let fm = FileManager.default
        for p in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: p, isDirectory: &isDir) else { throw ReportInputError.notFound(p) }
            let url = URL(fileURLWithPath: p)
            if !isDir.boolValue { out.append(url); continue }
            let found = (fm.enumerator(atPath: p)?.compactMap { $0 as? String } ?? [])
                .filter { $0 == "report.json" || $0.hasSuffix("/report.json") }
                .map { url.appendingPathComponent($0) }
            out += found
        }
        guard !out.isEmpty else { throw ReportInputError.noReports(paths.joined(separator: ", ")) }
        return out.sorted { $0.path < $1.path }
    }

    static func oneLine(_ error: any Error) -> String {
        let text: String
        switch error {
        case DecodingError.dataCorrupted(let c): text = "invalid JSON" + (c.codingPath.isEmpty ? "" : " at \(path(c.codingPath))")
        case DecodingError.keyNotFound(let k, let c): text = "missing \(path(c.codingPath + [k]))"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c): text = "unexpected value at \(path(c.codingPath))"
        default: text = "\(error)"
        }
        return String(SecretMasker.mask(text).split(separator: "\n").first ?? "")
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}
