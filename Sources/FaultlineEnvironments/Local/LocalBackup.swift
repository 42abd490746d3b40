import Faultline
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Backups of the local environment with pgBackRest: every call runs `pgbackrest` through `pgbackrest(_:_:)` (as
// postgres, in a node's namespace, with that node's config and --stanza=faultline). See docs/environment.md, "Backups".

extension LocalEnvironment {
    /// Bound of one backup: `pgbackrest backup` is stopped past it.
    public static let backupTimeout: Duration = .seconds(600)

    /// pgBackRest's io-timeout for these calls: the archiving profile's 1 s is too short for a backup's writes into a
    /// new SeaweedFS collection (see `ArchivingConfig.setupIOTimeoutSeconds`).
    static var backupIOTimeout: String { "--io-timeout=\(ArchivingConfig.setupIOTimeoutSeconds)" }

    /// `pgbackrest info --output=json` on the leader (when there is none, on the first node that answers).
    public func backupInfo() async throws -> BackupCatalog {
        var last: Error = EnvironmentError.unhealthy("no node to run pgbackrest info on")
        for node in await backupNodes() {
            do {
                let r = try await pgbackrest(node, ["info", "--output=json", Self.backupIOTimeout], timeout: .seconds(90))
                return try BackupCatalog.parse(Data(r.stdout.utf8), stanza: ArchivingConfig.stanza)
            } catch { last = error }
        }
        throw last
    }

    /// `pgbackrest --repo=N --type=T --start-fast backup` on the leader (pgBackRest 2.45 backs up from the primary by
    /// default), bounded by `backupTimeout`; returns the new backup as `info` lists it afterwards.
    public func runBackup(type: BackupType, repo: Int) async throws -> BackupRecord {
        try BackupRepositories.check(repo)
        guard let leader = await leaderName() else { throw EnvironmentError.unhealthy("no leader: a backup runs on the primary") }
        let before = Set((try? await backupInfo())?.backups(repo: repo).map(\.label) ?? [])
        try await pgbackrest(leader, ["--repo=\(repo)", "--type=\(type.rawValue)", "--start-fast", Self.backupIOTimeout, "backup"],
                             timeout: Self.backupTimeout)
        guard let made = try await backupInfo().backups(repo: repo).last(where: { !before.contains($0.label) }) else {
            throw EnvironmentError.unhealthy("pgbackrest backup to repository \(repo) succeeded, but info lists no new backup")
        }
        await writeBackupMetrics()
        return made
    }

    /// The WAL segments in repository `repo`'s archive (`repo-ls --recurse --output=json archive/faultline`).
    public func archiveSegments(repo: Int) async throws -> Set<String> {
        Set(try await archiveFiles(repo: repo).keys)
    }

    /// Removes segment `name` from repository `repo`'s archive (`repo-rm` of its file; in 2.45 that command is
    /// "for internal use only", kept for administration and testing, which is what this is). Returns the files removed.
    @discardableResult
    public func removeArchivedSegment(_ name: String, repo: Int) async throws -> [String] {
        let seg = try WALSegment.parse(name).name
        guard let files = try await archiveFiles(repo: repo)[seg], !files.isEmpty else {
            throw EnvironmentError.unhealthy("WAL segment \(seg) is not in repository \(repo)'s archive")
        }
        let node = await backupNodes()[0]
        for f in files {
            try await pgbackrest(node, ["repo-rm", "--repo=\(repo)", Self.backupIOTimeout, "\(archivePath)/\(f)"], timeout: .seconds(60))
        }
        return files
    }

    /// Writes the backup metrics (`BackupMetrics.exposition` of `pgbackrest info` now; only the failure gauge when info
    /// fails) to the file node_exporter's textfile collector serves, atomically. Never throws: a metrics file that
    /// could not be refreshed shows as stale, which is what the alert watches.
    public func writeBackupMetrics() async {
        let catalog = try? await backupInfo()
        let text = BackupMetrics.exposition(catalog, now: Date())
        let dir = config.backupMetricsDir
        let tmp = "\(dir)/.faultline_backup.prom.tmp"
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            try Data(text.utf8).write(to: URL(fileURLWithPath: tmp))
            try chmod(tmp, 0o644)
            guard rename(tmp, "\(dir)/faultline_backup.prom") == 0 else { throw EnvironmentError.badConfig("rename into \(dir) failed: errno \(errno)") }
        } catch {
            logger.warning("backup metrics not written to \(dir): \(error)")
        }
    }

    /// `archive/<stanza>`, relative to the repository's path.
    var archivePath: String { "archive/\(ArchivingConfig.stanza)" }

    /// Segment name → its files, relative to `archivePath`.
    func archiveFiles(repo: Int) async throws -> [String: [String]] {
        try BackupRepositories.check(repo)
        let node = await backupNodes()[0]
        let r = try await pgbackrest(node, ["repo-ls", "--repo=\(repo)", "--recurse", "--output=json", Self.backupIOTimeout, archivePath],
                                     timeout: .seconds(90))
        return try WALSegments.archiveFiles(repoLsJSON: Data(r.stdout.utf8))
    }

    /// The leader first, then every other node.
    func backupNodes() async -> [String] {
        let leader = await leaderName()
        return (leader.map { [$0] } ?? []) + config.nodeNames.filter { $0 != leader }
    }
}
