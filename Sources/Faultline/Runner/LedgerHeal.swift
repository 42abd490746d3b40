/// The one heal: undoes fault-ledger entries newest first, heals the environment fully, then clears the
/// entries it undid. The runner's cleanup, `faultline heal`, `faultline env heal` and the integration
/// tests' fixture all call it, so a fault is undone the same way whoever finds it.
public enum LedgerHeal {
    public struct Report: Sendable, Equatable {
        /// The entries whose reversal ran (newest first), whether or not it succeeded.
        public var undone: [FaultLedgerEntry] = []
        /// Reversals that failed, the ledger read or an entry removal: the full heal still ran.
        public var notes: [String] = []
        /// Set when the full heal failed; the entries then stay in the ledger for a later heal.
        public var failure: String?
        /// A reversal failed or the ledger could not be read: the harness could not undo every fault.
        public var undoFailed = false
        /// The full heal threw `ClusterDidNotRecover` (its reason is `failure`).
        public var clusterDidNotRecover = false

        public init() {}

        /// The heal's failure when it is the system's, not the harness's: every fault was undone, the full heal
        /// ran, and the cluster still did not settle. nil when the heal succeeded or the harness failed.
        public var recoveryFailure: String? { clusterDidNotRecover && !undoFailed ? failure : nil }
    }

    /// Undoes the entries of run `runId` (nil: every entry, as after a crash), newest first; then heals.
    /// A failed reversal is noted and the full heal still runs (it may mend what the reversal could not);
    /// entries are removed only once the heal succeeded. A heal that throws `ClusterDidNotRecover` after every
    /// reversal succeeded is the system's failure (`Report.recoveryFailure`); any other failure is the harness's.
    public static func run(ledger: any FaultLedgerStore, environment: any Environment, runId: String? = nil,
                           log: (String) -> Void = { _ in }) async -> Report {
        var report = Report()
        var entries: [FaultLedgerEntry] = []
        do {
            entries = try await ledger.entries().filter { runId == nil || $0.runId == runId }
        } catch {
            report.notes.append("fault ledger unreadable: \(describe(error))")
            report.undoFailed = true
        }
        for e in entries.reversed() {
            report.undone.append(e)
            guard e.reversal != .nothingToUndo else { continue }
            log("undoing: \(e.action) -> \(e.reversal)")
            do {
                try await environment.revert(e.reversal)
            } catch {
                report.notes.append("revert \(e.reversal) failed: \(describe(error))")
                report.undoFailed = true
            }
        }
        log("heal")
        do {
            try await environment.heal()
        } catch {
            report.failure = describe(error)
            report.clusterDidNotRecover = error is ClusterDidNotRecover
            return report
        }
        for e in entries {
            do { try await ledger.remove(id: e.id) } catch {
                report.notes.append("fault ledger entry \(e.id) not removed: \(describe(error))")
            }
        }
        return report
    }
}
