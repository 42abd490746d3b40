/// What kind of backup `OperationSpec.backup` takes (pgBackRest's types).
public enum BackupType: String, Codable, Sendable, Hashable {
    case full
    case diff
    case incr
}

/// An operation: a step of an experiment that is not a fault and has no reversal (docs/scenarios.md,
/// "Operations"). Named `OperationSpec` like `FaultSpec` (and so as not to clash with Foundation's `Operation`).
/// The runner records `.mark` itself and sends `.switchWorkload` to `LoadDriver.switchWorkload`; every other case is
/// handed to `Environment.perform`.
public enum OperationSpec: Sendable, Hashable, CustomStringConvertible {
    /// Names this instant (a restore target, a reference for later checks). The environment is not called.
    case mark(String)
    /// Takes a backup of the cluster into `repo` (nil: the environment's default repository).
    case backup(BackupType, repo: String?)
    /// Destroys the cluster: the start of a disaster-recovery drill.
    case destroy
    /// Restores the cluster from the archive: to the instant of the mark named `to` (point in time),
    /// nil: to the end of the archive. `repo` nil: the environment's default repository.
    case restore(to: String?, repo: String?)
    /// Destroys one backup repository and everything in it (region loss): `repo` is the environment's name for it.
    case destroyRepository(String)
    /// Removes one archived WAL segment from `repo` (nil: the default), between the newest backup and now: the
    /// control a drill must fail (an archive with a gap).
    case removeArchivedWAL(repo: String?)
    /// Runs the schema migration to `revision`.
    case migrate(revision: String)
    /// Starts the schema migration to `revision` in the background and returns at once, so that later steps (a
    /// failover) run while it does. A later `.finishMigration` waits for it; one runs at a time.
    case startMigration(revision: String)
    /// Waits for the background migration to finish and returns its outcome, with the facts a `.migrate` reports
    /// (`MigrationFacts`) over the whole time since its start.
    case finishMigration
    /// Switches the application workload to `version`; `share` (0 < share ≤ 1) of the clients, nil: all of them.
    case switchWorkload(version: String, share: Double?)

    /// Stable kebab-case name, for JSON and verdict ids.
    public var slug: String {
        switch self {
        case .mark: "mark"
        case .backup: "backup"
        case .destroy: "destroy"
        case .destroyRepository: "destroy-repository"
        case .removeArchivedWAL: "remove-archived-wal"
        case .restore: "restore"
        case .migrate: "migrate"
        case .startMigration: "start-migration"
        case .finishMigration: "finish-migration"
        case .switchWorkload: "switch-workload"
        }
    }

    public var description: String {
        func repo(_ r: String?) -> String { r.map { " (repo \($0))" } ?? "" }
        switch self {
        case .mark(let n): return "mark '\(n)'"
        case .backup(let t, let r): return "\(t.rawValue) backup\(repo(r))"
        case .destroy: return "destroy the cluster"
        case .destroyRepository(let r): return "destroy backup repository \(r)"
        case .removeArchivedWAL(let r): return "remove one archived WAL segment after the newest backup" + repo(r)
        case .restore(let to, let r): return "restore to " + (to.map { "mark '\($0)'" } ?? "the end of the archive") + repo(r)
        case .migrate(let rev): return "migrate to revision \(rev)"
        case .startMigration(let rev): return "start migrating to revision \(rev) in the background"
        case .finishMigration: return "wait for the background migration to finish"
        case .switchWorkload(let v, let share):
            return "switch the workload to version \(v)" + (share.map { " for \(percent($0)) of the clients" } ?? "")
        }
    }

    /// The mark a restore targets, if any.
    public var restoreTarget: String? { if case .restore(let to, _) = self { to } else { nil } }
}

/// What an environment reports of an operation it performed.
public struct OperationOutcome: Codable, Sendable, Equatable {
    /// One short line for the timeline ("backup 20240101-120000F, 42 MiB").
    public var detail: String
    /// Facts later checks may read (a backup label, the point restored to), by name.
    public var facts: [String: String]
    /// The commands it ran, in order, for the drill's runbook; nil when it kept none.
    public var commands: [RunbookStep]?

    public init(_ detail: String = "", facts: [String: String] = [:], commands: [RunbookStep]? = nil) {
        self.detail = detail
        self.facts = facts
        self.commands = commands
    }
}

/// Thrown by `Environment.perform` when this environment cannot do the operation at all (the default):
/// the run's verdicts are then skipped with the reason, never passed.
public struct OperationUnsupported: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

// MARK: - Coding

extension OperationSpec: Codable {
    public init(from decoder: any Decoder) throws {
        let f = try FlatFields(from: decoder)
        switch (f.kind, f.name, f.type, f.revision, f.version) {
        case ("mark", .some(let n), _, _, _): self = .mark(n)
        case ("backup", _, .some(let t), _, _): self = .backup(t, repo: f.repo)
        case ("destroy", _, _, _, _): self = .destroy
        case ("destroy-repository", _, _, _, _) where f.repo != nil: self = .destroyRepository(f.repo!)
        case ("remove-archived-wal", _, _, _, _): self = .removeArchivedWAL(repo: f.repo)
        case ("restore", _, _, _, _): self = .restore(to: f.to, repo: f.repo)
        case ("migrate", _, _, .some(let r), _): self = .migrate(revision: r)
        case ("start-migration", _, _, .some(let r), _): self = .startMigration(revision: r)
        case ("finish-migration", _, _, _, _): self = .finishMigration
        case ("switch-workload", _, _, _, .some(let v)): self = .switchWorkload(version: v, share: f.share)
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "unexpected kind or fields for operation '\(f.kind)'"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var f = FlatFields(slug)
        switch self {
        case .mark(let n): f.name = n
        case .backup(let t, let r): f.type = t; f.repo = r
        case .destroy: break
        case .destroyRepository(let r): f.repo = r
        case .removeArchivedWAL(let r): f.repo = r
        case .restore(let to, let r): f.to = to; f.repo = r
        case .migrate(let rev), .startMigration(let rev): f.revision = rev
        case .finishMigration: break
        case .switchWorkload(let v, let s): f.version = v; f.share = s
        }
        try f.encode(to: encoder)
    }
}

