import Faultline

/// Every scenario compiled into faultline, one file a scenario. Add new ones here.
public enum Catalogue {
    public static let all: [Scenario] = [killPrimary, killPostgres, switchover, switchoverPaused] + faults + observability + controls + dr + migrations

    /// Scenarios that check an alert fires and resolves (docs/observability.md); kill-primary, fill-disk and
    /// long-query check theirs too.
    public static let observability: [Scenario] = [poolExhaustion, noLeader, roguePromote]

    /// Controls of the fault verdicts: known-bad configurations that must fail them (docs/faults.md).
    public static let controls: [Scenario] = [asyncFailoverLoss]

    /// Disaster-recovery drills: backup, destroy, restore (dr-archive-gap is the control that must fail).
    public static let dr: [Scenario] = [drDrill, drDrillRegionLoss, drSuddenLoss, drArchiveGap]

    /// Schema migrations under load, each beside its naive twin (the control that must fail), and a failover in the
    /// middle of two of them (docs/migrations.md).
    public static let migrations: [Scenario] = [
        migrateAddColumn, migrateAddColumnNaive, migrateRenameColumn, migrateRenameColumnNaive, migrateCreateIndex, migrateCreateIndexNaive,
        migrateFailoverBackfill, migrateFailoverIndex,
    ]

    /// The fault catalogue: one scenario per fault primitive (docs/faults.md).
    public static let faults: [Scenario] = [
        isolatePrimary, isolatePrimaryQuickHeal, isolatePrimaryLong, partitionPrimaryFromReplicas, partitionPrimaryFromDCS, partitionClientsFromPrimary, packetLoss5, packetLoss30, bandwidthReplica, latencyNetem, fillDisk, pausePostgres, pausePatroni, longQuery, idleInTransaction, replicaLag, pauseReplay, dcsQuorumLoss, connectionExhaustion, walArchiveFailure,
    ]

    /// The scenario with this name, or nil.
    public static func scenario(named name: String) -> Scenario? {
        all.first { $0.name == name }
    }

    /// The scenario with this name, or a one-line `InputError` listing the known names.
    public static func lookup(_ name: String) throws(InputError) -> Scenario {
        guard let s = scenario(named: name) else {
            throw InputError("unknown scenario '\(name)' (known: \(all.map(\.name).joined(separator: ", ")); see `faultline list`)")
        }
        return s
    }
}
