import Faultline
import Foundation

/// `faultline backup list`: the catalog as a text table per repository, or as JSON. Pure.
public struct BackupListing: Codable, Sendable, Equatable {
    public struct Repository: Codable, Sendable, Equatable {
        public var repo: Int
        public var status: BackupStatus?
        public var archiveMin: String?
        public var archiveMax: String?
        public var backups: [Entry]
    }

    public struct Entry: Codable, Sendable, Equatable {
        public var label: String
        public var type: BackupType
        public var start: Int
        public var stop: Int
        public var durationSeconds: Int
        public var sizeBytes: Int64?
        public var repoSizeBytes: Int64?
        public var walStart: String?
        public var walStop: String?
        public var error: Bool
        /// Seconds from the backup's stop to `now`.
        public var ageSeconds: Int
    }

    public var stanza: String
    public var status: BackupStatus
    /// Epoch seconds the ages are measured at.
    public var now: Int
    public var repositories: [Repository]

    /// The listing of `catalog` at `now`, of one repository or (nil) of every one.
    public init(_ catalog: BackupCatalog, now: Date, repo: Int? = nil) {
        let t = Int(now.timeIntervalSince1970.rounded(.down))
        stanza = catalog.stanza
        status = catalog.status
        self.now = t
        repositories = catalog.repositories.filter { repo == nil || $0 == repo }.map { r in
            let a = catalog.archive(repo: r)
            return Repository(repo: r, status: catalog.repoStatus[r], archiveMin: a?.min, archiveMax: a?.max,
                              backups: catalog.backups(repo: r).map {
                                  Entry(label: $0.label, type: $0.type, start: $0.start, stop: $0.stop, durationSeconds: $0.durationSeconds,
                                        sizeBytes: $0.size, repoSizeBytes: $0.repoSize, walStart: $0.walStart, walStop: $0.walStop,
                                        error: $0.error, ageSeconds: t - $0.stop)
                              })
        }
    }

    /// Pretty JSON with sorted keys: the same catalog and `now` give the same bytes.
    public func json() -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? e.encode(self)) ?? Data(), as: UTF8.self) + "\n"
    }

    /// One block per repository: a heading (status, WAL archive range), then a table of its backups, oldest first.
    public func text() -> String {
        var out = "stanza \(stanza): \(status.message)\n"
        for r in repositories {
            let archive = r.archiveMin.map { "WAL archive \($0)..\(r.archiveMax ?? "?")" } ?? "WAL archive empty"
            let n = r.backups.count
            out += "\nrepository \(r.repo): \(r.status?.message ?? "not reported"), \(n) backup\(n == 1 ? "" : "s"), \(archive)\n"
            guard n > 0 else { continue }
            let head = ["type", "label", "start (UTC)", "stop (UTC)", "duration", "size", "repo size", "WAL start..stop", "age", ""]
            let rows = r.backups.map { b in
                [b.type.rawValue, b.label, Self.utc(b.start), Self.utc(b.stop), Self.duration(b.durationSeconds),
                 b.sizeBytes.map(Self.bytes) ?? "-", b.repoSizeBytes.map(Self.bytes) ?? "-",
                 "\(b.walStart ?? "?")..\(b.walStop ?? "?")", Self.duration(b.ageSeconds), b.error ? "ERROR" : ""]
            }
            out += Self.table([head] + rows)
        }
        return out
    }

    // MARK: formatting

    static func table(_ rows: [[String]]) -> String {
        let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            "  " + row.enumerated().map { c, v in v.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }.joined(separator: "\n") + "\n"
    }

    /// "2026-12-01 18:39:35".
    static func utc(_ epoch: Int) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(epoch)))
    }

    /// "45s", "3m 20s", "2h 05m", "3d 04h"; negative (a clock behind the backup's) as "-45s".
    static func duration(_ seconds: Int) -> String {
        if seconds < 0 { return "-" + duration(-seconds) }
        let (d, h, m, s) = (seconds / 86400, seconds % 86400 / 3600, seconds % 3600 / 60, seconds % 60)
        if d > 0 { return String(format: "%dd %02dh", d, h) }
        if h > 0 { return String(format: "%dh %02dm", h, m) }
        if m > 0 { return String(format: "%dm %02ds", m, s) }
        return "\(s)s"
    }

    /// "493 B", "8.3 KiB", "4.3 MiB", "1.2 GiB" (binary units, one decimal).
    static func bytes(_ n: Int64) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB"]
        guard n >= 1024 else { return "\(n) B" }
        var v = Double(n) / 1024, i = 0
        while v >= 1024, i < units.count - 1 { v /= 1024; i += 1 }
        return String(format: "%.1f", v) + " " + units[i]
    }
}
