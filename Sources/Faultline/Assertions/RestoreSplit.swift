/// A disaster-recovery drill's writes, split at the restore's target T: which acknowledged writes the restore had to
/// keep (committed before T), which it kept, which rows it should not have kept (committed after T), and which are
/// too close to T to judge. Pure: `classify` reads server commit times (`RestoreCheck`) first, the client's ledger
/// times only for a write whose commit time is unknown. Without a target (a restore to the end of the archive, a
/// sudden loss) every acknowledged write must be present.
///
/// Writes the client started at or after the disaster, and rows not in `commitsBefore` that committed after it
/// (on the load's clock), went to the restored cluster: they are not part of the split.
public struct RestoreSplit: Sendable, Equatable {
    /// Acknowledged writes the restore had to keep.
    public var expectedPresent: Int
    /// Acknowledged writes the restore had to keep and did not, sorted.
    public var lost: [String]
    /// Rows present after the restore that committed after T + resolution, sorted: the restore went past T.
    public var presentAfterTarget: [String]
    /// Writes too close to T to judge (a commit within the resolution of T, or an unknown commit whose client
    /// start..ack interval straddles T), sorted; without a target, the client's indeterminate writes.
    public var indeterminate: [String]
    /// The newest commit of an acknowledged write present after the restore (with a target: at most T + resolution).
    public var newestSurvivingAckedCommitEpochMs: Double?
    /// The newest commit of an acknowledged write the restore had to keep or could have kept (with a target: at most
    /// T + resolution); a lost write with no known commit counts by its client ack time.
    public var newestAckedCommitEpochMs: Double?
    /// The data lost, in time: with a target, T − the newest surviving acknowledged commit (0 at or after T); without,
    /// the newest acknowledged commit − the newest surviving one (0 when none was lost). nil when no acknowledged
    /// write the restore had to keep survived, or when there was none.
    public var rpoMs: Double?
    /// T as compared with commit times (epoch ms): the mark's server time, else the load's clock at the mark.
    public var targetEpochMs: Double?
    /// How the split was made, one line each (the rule, client times used, ...).
    public var notes: [String]
    /// Why no split could be made (T has no time at all); the counts are then meaningless.
    public var problem: String?

    public init(expectedPresent: Int = 0, lost: [String] = [], presentAfterTarget: [String] = [], indeterminate: [String] = [],
                newestSurvivingAckedCommitEpochMs: Double? = nil, newestAckedCommitEpochMs: Double? = nil, rpoMs: Double? = nil,
                targetEpochMs: Double? = nil, notes: [String] = [], problem: String? = nil) {
        self.expectedPresent = expectedPresent
        self.lost = lost
        self.presentAfterTarget = presentAfterTarget
        self.indeterminate = indeterminate
        self.newestSurvivingAckedCommitEpochMs = newestSurvivingAckedCommitEpochMs
        self.newestAckedCommitEpochMs = newestAckedCommitEpochMs
        self.rpoMs = rpoMs
        self.targetEpochMs = targetEpochMs
        self.notes = notes
        self.problem = problem
    }

    public static func classify(acked: [AckedWrite], indeterminate: [IndeterminateWrite], check: RestoreCheck) -> RestoreSplit {
        let r = check.resolutionMs, origin = check.loadOriginEpochMs, disaster = Double(check.disasterLoadMs)
        let present = check.presentAfter
        func commit(_ id: String) -> Double? { check.commitsBefore?[id] ?? present[id] }
        /// A row written on the restored cluster: sent at or after the disaster, or committed after it.
        let sentAfter = Set(acked.filter { $0.startMs >= disaster }.map(\.id) + indeterminate.filter { $0.startMs >= disaster }.map(\.id))
        func afterDisaster(_ id: String) -> Bool {
            if check.commitsBefore?[id] != nil { return false }
            if sentAfter.contains(id) { return true }
            guard let origin, let c = commit(id) else { return false }
            return c >= origin + disaster
        }
        let drill = acked.filter { $0.startMs < disaster }
        var out = RestoreSplit()
        if check.commitsBefore == nil {
            out.notes.append("commit times before the destroy were not read: client ack times were used for the writes missing "
                             + "after the restore")
        }

        guard check.target != nil else {
            // End of the archive: every acknowledged write must be present.
            out.notes.append("rule: restored to the end of the archive, every acknowledged write sent before the disaster must be present")
            out.expectedPresent = drill.count
            out.lost = drill.filter { present[$0.id] == nil }.map(\.id).sorted()
            out.indeterminate = indeterminate.filter { $0.startMs < disaster }.map(\.id).sorted()
            out.newestSurvivingAckedCommitEpochMs = drill.compactMap { present[$0.id] == nil ? nil : commit($0.id) }.max()
            let times = drill.map { w in commit(w.id) ?? origin.map { $0 + w.ackMs } }
            out.newestAckedCommitEpochMs = times.compactMap { $0 }.max()
            if out.lost.isEmpty {
                out.rpoMs = drill.isEmpty ? nil : 0
            } else if times.contains(nil) {
                out.notes.append("a lost write has no known time (no commit time, no load clock): the RPO is not measured")
            } else if let newest = out.newestAckedCommitEpochMs, let kept = out.newestSurvivingAckedCommitEpochMs {
                out.rpoMs = max(0, newest - kept)
            }
            return out
        }

        // T on the server's clock (commit times), and in the load's frame (client times).
        let tEpoch = check.targetEpochMs ?? origin.flatMap { o in check.targetLoadMs.map { o + Double($0) } }
        let tLoad = check.targetEpochMs.flatMap { t in origin.map { t - $0 } } ?? check.targetLoadMs.map(Double.init)
        out.targetEpochMs = tEpoch
        guard tEpoch != nil || tLoad != nil else {
            out.problem = "T has no time: the mark '\(check.target ?? "")' was not recorded"
            return out
        }
        if check.targetEpochMs == nil {
            out.notes.append(tEpoch == nil
                ? "T's server time unknown and no load clock: every write is judged by its client times"
                : "T's server time unknown: T is the load's clock at the mark")
        }
        out.notes.append("rule: an acknowledged write committed before T − \(format(r)) must be present, a row committed after "
                         + "T + \(format(r)) must be absent, within \(format(r)) of T: indeterminate; a write whose commit time is "
                         + "unknown is judged by its client times (acked before T: must be present; sent before T, acked after: indeterminate)")
        /// Where a write falls, by its commit time, else by its client start..end interval.
        enum Side { case before, near, after, unknown }
        func side(_ id: String, start: Double, end: Double) -> Side {
            if let t = tEpoch, let c = commit(id) {
                return c < t - r ? .before : c > t + r ? .after : .near
            }
            guard let t = tLoad else { return .unknown }
            return end < t - r ? .before : start > t + r ? .after : .near
        }
        var near = Set<String>()
        var expected: [AckedWrite] = []
        for w in drill {
            switch side(w.id, start: w.startMs, end: w.ackMs) {
            case .before: expected.append(w)
            case .near: near.insert(w.id)
            case .after, .unknown: break
            }
        }
        for w in indeterminate where w.startMs < disaster {
            if side(w.id, start: w.startMs, end: w.giveUpMs) == .near { near.insert(w.id) }
        }
        var afterT: [String] = []
        if let t = tEpoch {
            let known = Set(check.commitsBefore.map { Array($0.keys) } ?? []).union(present.keys)
            for id in known where !afterDisaster(id) {
                guard let c = commit(id) else { continue }
                if abs(c - t) <= r { near.insert(id) } else if c > t + r, present[id] != nil { afterT.append(id) }
            }
        } else {
            // No time for T on the commits' clock: a present row the client sent after T.
            let sent = drill.map { ($0.id, $0.startMs, $0.ackMs) } + indeterminate.filter { $0.startMs < disaster }.map { ($0.id, $0.startMs, $0.giveUpMs) }
            afterT = sent.filter { present[$0.0] != nil && side($0.0, start: $0.1, end: $0.2) == .after }.map(\.0)
        }
        out.expectedPresent = expected.count
        out.lost = expected.filter { present[$0.id] == nil }.map(\.id).sorted()
        out.presentAfterTarget = afterT.sorted()
        out.indeterminate = near.sorted()
        let limit = tEpoch.map { $0 + r } ?? .infinity
        let expectedIDs = Set(expected.map(\.id))
        let candidates = drill.filter { expectedIDs.contains($0.id) || near.contains($0.id) }
        out.newestSurvivingAckedCommitEpochMs = candidates.compactMap { w in present[w.id] == nil ? nil : commit(w.id) }
            .filter { $0 <= limit }.max()
        out.newestAckedCommitEpochMs = candidates.compactMap { w in commit(w.id) ?? origin.map { $0 + w.ackMs } }
            .filter { $0 <= limit }.max()
        if let t = tEpoch, let kept = out.newestSurvivingAckedCommitEpochMs { out.rpoMs = max(0, t - kept) }
        return out
    }

    static func format(_ ms: Double) -> String { ms == ms.rounded() ? "\(Int(ms)) ms" : "\(ms) ms" }
}
