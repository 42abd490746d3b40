import Faultline
import Foundation

// What pgBackRest knows of its backups and WAL archive, from `pgbackrest info --output=json` (2.45). Pure.
//
// The JSON is an array of stanzas; each has `backup` (one entry a backup, the repository in
// `database.repo-key`), `archive` (one entry a repository and database: `min`/`max` WAL), `repo` (one entry
// a repository: `key`, `status{code,message}`) and `status` (the stanza's: 0 ok, 4 "different across repos").
// `info.size` is the database size, `info.repository.size` the backup set's size in the repository.

extension BackupType {
    /// Every type, in pgBackRest's order (`Faultline.BackupType` is the core's, shared with `OperationSpec.backup`).
    public static let all: [BackupType] = [.full, .diff, .incr]
}

/// The repositories of the local environment: repo1 (region A) and repo2 (region B).
public enum BackupRepositories {
    public static let all = [1, 2]

    /// Throws for a repository this environment does not have.
    public static func check(_ repo: Int) throws(EnvironmentError) {
        guard all.contains(repo) else { throw .badConfig(unknown(repo)) }
    }

    /// "unknown repository 3; this environment has repositories 1 and 2".
    public static func unknown(_ repo: Int) -> String {
        let names = all.map(String.init)
        let list = names.count > 1 ? names.dropLast().joined(separator: ", ") + " and " + names.last! : names.joined()
        return "unknown repository \(repo); this environment has repositories \(list)"
    }
}

/// One backup in one repository.
public struct BackupRecord: Codable, Sendable, Equatable {
    public var repo: Int
    public var label: String
    public var type: BackupType
    /// Start and stop, epoch seconds.
    public var start: Int
    public var stop: Int
    /// Size of the database backed up, bytes (`info.size`).
    public var size: Int64?
    /// Size of this backup's set in the repository, compressed, bytes (`info.repository.size`).
    public var repoSize: Int64?
    /// The WAL needed to make the backup consistent.
    public var walStart: String?
    public var walStop: String?
    /// pgBackRest found errors (e.g. page checksums) in this backup.
    public var error: Bool
    /// The backup a diff/incr builds on.
    public var prior: String?

    public init(repo: Int, label: String, type: BackupType, start: Int, stop: Int, size: Int64? = nil, repoSize: Int64? = nil,
                walStart: String? = nil, walStop: String? = nil, error: Bool = false, prior: String? = nil) {
        (self.repo, self.label, self.type, self.start, self.stop) = (repo, label, type, start, stop)
        (self.size, self.repoSize, self.walStart, self.walStop, self.error, self.prior) = (size, repoSize, walStart, walStop, error, prior)
    }

    public var durationSeconds: Int { stop - start }
}

/// The WAL archive of one repository (for the current database).
public struct RepoArchive: Codable, Sendable, Equatable {
    public var repo: Int
    /// pgBackRest's archive id, e.g. "15-1".
    public var id: String
    public var min: String?
    public var max: String?
}

/// A status as pgBackRest reports it (0 is ok).
public struct BackupStatus: Codable, Sendable, Equatable {
    public var code: Int
    public var message: String
    public var ok: Bool { code == 0 }
}

/// One stanza's backups and archive, over every repository.
public struct BackupCatalog: Sendable, Equatable {
    public var stanza: String
    public var status: BackupStatus
    /// Sorted by repository, then stop time, then label.
    public var backups: [BackupRecord]
    public var archives: [RepoArchive]
    /// Per repository: "ok", or why pgBackRest could not read it.
    public var repoStatus: [Int: BackupStatus]

    public init(stanza: String, status: BackupStatus, backups: [BackupRecord], archives: [RepoArchive], repoStatus: [Int: BackupStatus]) {
        self.stanza = stanza
        self.status = status
        self.backups = backups.sorted { ($0.repo, $0.stop, $0.label) < ($1.repo, $1.stop, $1.label) }
        self.archives = archives.sorted { ($0.repo, $0.id) < ($1.repo, $1.id) }
        self.repoStatus = repoStatus
    }

    /// Parses `pgbackrest info --output=json`; `stanza` picks one when several are listed (nil: the only or first).
    /// Lines before the JSON (a warning pgBackRest printed to stdout) are skipped.
    public static func parse(_ data: Data, stanza: String? = nil) throws(BackupParseError) -> BackupCatalog {
        let text = String(decoding: data, as: UTF8.self)
        // The JSON starts a line (a warning's own "[055]" does not).
        let start = text.hasPrefix("[") ? text.startIndex : text.range(of: "\n[").map { text.index(after: $0.lowerBound) }
        guard let start else { throw .info("no JSON array in pgbackrest info output: \(snippet(text))") }
        let stanzas: [RawStanza]
        do { stanzas = try JSONDecoder().decode([RawStanza].self, from: Data(text[start...].utf8)) } catch {
            throw .info("cannot decode pgbackrest info JSON: \(error)")
        }
        guard let s = stanza.map({ n in stanzas.first { $0.name == n } }) ?? stanzas.first else {
            throw .info("pgbackrest info lists no stanza\(stanza.map { " \($0)" } ?? "")")
        }
        let backups = try (s.backup ?? []).map { b throws(BackupParseError) -> BackupRecord in
            guard let type = BackupType(rawValue: b.type) else { throw .info("backup \(b.label) has unknown type \(b.type)") }
            return BackupRecord(repo: b.database.repoKey, label: b.label, type: type, start: b.timestamp.start, stop: b.timestamp.stop,
                                size: b.info?.size, repoSize: b.info?.repository?.size, walStart: b.archive?.start,
                                walStop: b.archive?.stop, error: b.error ?? false, prior: b.prior)
        }
        let archives = (s.archive ?? []).map { RepoArchive(repo: $0.database.repoKey, id: $0.id, min: $0.min, max: $0.max) }
        var repos: [Int: BackupStatus] = [:]
        for r in s.repo ?? [] { repos[r.key] = BackupStatus(code: r.status.code, message: r.status.message) }
        return BackupCatalog(stanza: s.name, status: BackupStatus(code: s.status.code, message: s.status.message),
                             backups: backups, archives: archives, repoStatus: repos)
    }

    /// Every repository the catalog mentions, plus the environment's own.
    public var repositories: [Int] {
        Set(BackupRepositories.all + backups.map(\.repo) + archives.map(\.repo) + repoStatus.keys).sorted()
    }

    public func backups(repo: Int) -> [BackupRecord] { backups.filter { $0.repo == repo } }

    /// The newest backup (by stop time) of `repo` without errors, of `type` (nil: any type).
    public func newestGood(repo: Int, type: BackupType? = nil) -> BackupRecord? {
        backups.last { $0.repo == repo && !$0.error && (type == nil || $0.type == type) }
    }

    /// The WAL archive of `repo` (its newest archive id when the database was upgraded).
    public func archive(repo: Int) -> RepoArchive? { archives.last { $0.repo == repo } }

    static func snippet(_ s: String) -> String {
        let line = s.split(separator: "\n").first.map(String.init) ?? ""
        return line.count > 120 ? String(line.prefix(120)) + "…" : line
    }
}

/// pgBackRest printed something these parsers do not understand.
public enum BackupParseError: Error, CustomStringConvertible, Equatable {
    case info(String)
    case segment(String)
    case listing(String)

    public var description: String {
        switch self {
        case .info(let why): "pgbackrest info: \(why)"
        case .segment(let name): "not a WAL segment name (24 hex digits): \(name)"
        case .listing(let why): "pgbackrest repo-ls: \(why)"
        }
    }
}

// MARK: pgBackRest 2.45's JSON

private struct RawStanza: Decodable {
    var name: String
    var status: RawStatus
    var backup: [RawBackup]?
    var archive: [RawArchive]?
    var repo: [RawRepo]?
}

private struct RawStatus: Decodable {
    var code: Int
    var message: String
}

private struct RawRepoKey: Decodable {
    var repoKey: Int
    enum CodingKeys: String, CodingKey { case repoKey = "repo-key" }
}

private struct RawBackup: Decodable {
    struct Times: Decodable { var start: Int; var stop: Int }
    struct WAL: Decodable { var start: String?; var stop: String? }
    struct Sizes: Decodable {
        struct Repository: Decodable { var size: Int64?; var delta: Int64? }
        var size: Int64?
        var delta: Int64?
        var repository: Repository?
    }
    var label: String
    var type: String
    var timestamp: Times
    var archive: WAL?
    var info: Sizes?
    var database: RawRepoKey
    var error: Bool?
    var prior: String?
}

private struct RawArchive: Decodable {
    var id: String
    var min: String?
    var max: String?
    var database: RawRepoKey
}

private struct RawRepo: Decodable {
    var key: Int
    var status: RawStatus
}
