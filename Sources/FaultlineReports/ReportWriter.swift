import Foundation
import Faultline

/// The one place that writes report files: `reports/<run-id>/` with report.json, report.md, report.html, junit.xml,
/// timeline.jsonl, ledger.jsonl and commands.log; runbook.md too when the run's operations recorded commands (a drill).
public enum ReportWriter {
    /// Writes every file and returns the directory. Creates `root/<run-id>/`.
    @discardableResult
    public static func write(_ report: RunReport, commands: [String], under root: URL) throws -> URL {
        let dir = root.appendingPathComponent(report.runId, isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var files: [(String, String)] = [
            ("report.json", try Render.json(report)),
            ("report.md", Render.markdown(report)),
            ("report.html", Render.html(report, commands: commands)),
            ("junit.xml", Render.junit(report)),
            ("timeline.jsonl", try Render.timelineLines(report)),
            ("ledger.jsonl", try Render.ledgerLines(report)),
            ("commands.log", Render.commandLog(commands)),
        ]
        if let runbook = Runbook.render(report) { files.append(("runbook.md", runbook)) }
        for (name, text) in files {
            try Data(text.utf8).write(to: dir.appendingPathComponent(name), options: .atomic)
        }
        return dir
    }
}

/// The fault ledger as a JSON file (an array of `FaultLedgerEntry`), rewritten atomically on every change.
/// Default place: `reports/fault-ledger.json`, where `faultline heal` finds it after a crash.
public actor JSONFileFaultLedger: FaultLedgerStore {
    public let url: URL

    public init(url: URL) { self.url = url }

    public func record(_ entry: FaultLedgerEntry) throws {
        var all = try load()
        all.removeAll { $0.id == entry.id }
        all.append(entry)
        try save(all)
    }

    public func remove(id: String) throws {
        let all = try load()
        let kept = all.filter { $0.id != id }
        if kept.count != all.count { try save(kept) }
    }

    public func entries() throws -> [FaultLedgerEntry] { try load() }

    private func load() throws -> [FaultLedgerEntry] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let data = try Data(contentsOf: url)
        if data.isEmpty { return [] }
        return try JSONDecoder().decode([FaultLedgerEntry].self, from: data)
    }

    private func save(_ entries: [FaultLedgerEntry]) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try e.encode(entries)
        // Write, flush to disk, then rename over the old file: a crash leaves the old or the new ledger, whole.
        let tmp = url.appendingPathExtension("tmp")
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: tmp.path])
        }
        let h = try FileHandle(forWritingTo: tmp)
        try h.write(contentsOf: data)
        try h.synchronize()
        try h.close()
        guard rename(tmp.path, url.path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
    }
}
