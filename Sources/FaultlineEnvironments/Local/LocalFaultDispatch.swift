import Faultline
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Every fault action and reversal on the local environment: one exhaustive switch each, so a new
/// case does not compile until the local environment handles it.
extension LocalRunnerEnvironment {
    public func apply(_ action: FaultAction) async throws {
        probes.start()
        switch action {
        case .killNode(let m):
            try await local.killNode(m)
        case .killPostgres(let m):
            try local.signalPostgres(m, SIGKILL)
        case .switchover(let from, let to):
            try await local.switchover(from: from, to: to)
        case .dropPackets(let m, let filter):
            try await local.dropPackets(m, filter)
        case .shapeLink(let m, let shape):
            try await local.shapeLink(m, shape)
        case .stopProcess(let m, let p):
            try local.stopProcess(m, p)
        case .fillDisk(let m, let p):
            let before = local.volumeUsage(m)
            let bytes = try local.fillDisk(m, percent: p)
            let after = local.volumeUsage(m)
            probes.note("fill-disk \(m): \(bytes) bytes of ballast; volume \(Self.pct(before)) -> \(Self.pct(after)) used")
        case .pauseReplay(let m):
            try local.pauseReplay(m)
        case .stopDCS(let ms):
            await local.stopEtcd(ms)
        case .holdSessions(let m, let hold):
            let what = try await local.holdSessions(m, hold, registry: sessions)
            probes.note("\(hold.rawValue) on \(m): \(what)")
        case .breakArchiving(let m, let filter):
            try await local.dropPackets(m, filter)
            let seg = try local.switchWal(m)
            probes.note("break-archiving \(m): object store port dropped, pg_switch_wal() closed \(seg); archiver: "
                        + ((try? local.archiverStatus(m).summary) ?? "?"))
        case .roguePromote(let m):
            try await local.roguePromote(m)  // ManagementFaults.swift
            probes.note("rogue-promote \(m): maintenance mode on, pg_promote() returned true")
        case .pausePooler:
            try await local.pausePooler()  // PoolerFaults.swift
            probes.note("pause-pooler: PgBouncer PAUSE returned (every server connection released)")
        case .asyncReplication:
            try await local.asyncReplication()  // ReplicationConfigFaults.swift
            probes.note("async-replication: synchronous_mode false, maximum_lag_on_failover 1 GiB; the primary names no synchronous standby")
        }
    }

    public func revert(_ reversal: Reversal) async throws {
        switch reversal {
        case .startNode(let m), .startPostgres(let m):
            // Patroni starts (or has already restarted) PostgreSQL; starting Patroni is idempotent.
            try await local.startPatroniIfDown(m)
        case .nothingToUndo:
            break
        case .restorePackets(let m, let filter):
            if filter.services == [.objectStore] {  // break-archiving: what piled up while the store was unreachable
                probes.note("break-archiving \(m) before the heal; archiver: " + ((try? local.archiverStatus(m).summary) ?? "?"))
            }
            try await local.restorePackets(m, filter)
        case .unshapeLink(let m, let shape):
            try await local.unshapeLink(m, shape)
        case .continueProcess(let m, let p):
            local.continueProcess(m, p)
        case .removeBallast(let m):
            local.removeBallast(m)
        case .resumeReplay(let m):
            try local.resumeReplay(m)
        case .startDCS(let ms):
            try await local.startEtcdIfDown(ms)
        case .endSessions(let m, let hold):
            try local.endSessions(m, hold, registry: sessions)
        case .rejoinRogue(let m):
            probes.note("rejoin \(m): " + (try await local.rejoinRogue(m)))
        case .resumePooler:
            let resumed = try await local.resumePooler()
            probes.note("resume-pooler: " + (resumed ? "PgBouncer RESUME" : "PgBouncer was not paused"))
        case .syncReplication:
            probes.note("sync-replication: " + (try await local.syncReplication()))
        }
    }

    static func pct(_ u: LocalEnvironment.VolumeUsage?) -> String {
        u.map { "\(Int($0.percent.rounded())) % of \($0.totalBytes >> 20) MiB" } ?? "?"
    }
}
