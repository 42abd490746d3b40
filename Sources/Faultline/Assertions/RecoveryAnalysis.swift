/// Recovery after the first fault, read at two instants, with the breakdown. All `…Ms` offsets are since injection.
///
/// - *service restored* (`serviceRestoredMs`): the service probe's first acknowledged write that starts a sustained
///   run (`ServiceProbeReport.recovery`); the probe retries every few ms whatever any backoff says.
/// - *application recovered* (`recoveryMs`, JSON key kept from before the probe): what the workload saw, its
///   clients' reconnect backoff included.
public struct RecoveryAnalysis: Codable, Sendable, Equatable {
    /// When the fault was injected, ms since load start.
    public var injectedAtMs: Int
    /// The old leader seen gone from the topology.
    public var detectionMs: Int?
    /// A new leader seen in the topology.
    public var promotionMs: Int?
    /// The first acknowledged write after the promotion was seen (routing done): the service probe's when it ran,
    /// else the workload's.
    public var firstWriteAfterPromotionMs: Int?
    /// When the first write error after injection was seen (start of the client-view outage); nil: none.
    public var outageStartMs: Int?
    /// Application recovered: the workload's first acknowledged write that starts a sustained clean run.
    /// nil: never recovered. (The RTO before the service probe; see `applicationRecoveredMs`.)
    public var recoveryMs: Int?
    /// Service restored: the service probe's first acknowledged write that starts a sustained run of acknowledged
    /// probe writes (no probe error within `sustain`). nil: never restored, or no probe data (`probeIntervalMs` nil).
    public var serviceRestoredMs: Int?
    /// The service probe's first error after injection; nil: none, or no probe data.
    public var probeOutageStartMs: Int?
    /// The service probe's interval; nil when the run has no probe data (an older report, a fake load).
    public var probeIntervalMs: Int?
    /// How long after injection there is data (bounds what "never recovered" means).
    public var observedMs: Int

    /// Analyses `workload`'s windows (normally "ledger-writes"). A window is clean when it has at least one ok
    /// and no error; recovery needs clean data spanning `sustain` with no error window in between.
    /// Returns nil when nothing was injected.
    public static func analyze(_ obs: Observations, workload: String = "ledger-writes", sustain: Duration) -> RecoveryAnalysis? {
        guard let t0 = obs.injectedAtMs else { return nil }
        var a = RecoveryAnalysis(injectedAtMs: t0, observedMs: max(0, obs.endMs - t0))
        if let lost = obs.events.first(where: { $0.kind == .leaderLost && $0.atMs >= t0
            && (obs.primaryAtInjection == nil || $0.member == obs.primaryAtInjection) }) {
            a.detectionMs = lost.atMs - t0
        }
        if let probe = obs.load.probe {
            a.probeIntervalMs = probe.intervalMs
            (a.probeOutageStartMs, a.serviceRestoredMs) = probe.recovery(after: t0, sustainMs: sustain.milliseconds)
        }
        if let elected = obs.first(.leaderElected, atOrAfter: t0) {
            a.promotionMs = elected.atMs - t0
            if let probe = obs.load.probe {
                a.firstWriteAfterPromotionMs = probe.firstAck(atOrAfter: elected.atMs).map { Int($0.rounded(.up)) - t0 }
            } else if let w = obs.load.acked.filter({ $0.ackMs >= Double(elected.atMs) }).min(by: { $0.ackMs < $1.ackMs }) {
                a.firstWriteAfterPromotionMs = Int(w.ackMs.rounded(.up)) - t0
            }
        }
        let windows = obs.load.windows.filter { $0.workload == workload }.sorted { $0.startMs < $1.startMs }
        guard let firstBad = windows.firstIndex(where: { $0.startMs + $0.lengthMs > t0 && $0.errorCount > 0 }) else {
            // No client-visible error after injection: recovered at once (if writes were seen at all).
            if windows.contains(where: { $0.startMs + $0.lengthMs > t0 && $0.ok > 0 }) { a.recoveryMs = 0 }
            return a
        }
        a.outageStartMs = max(0, windows[firstBad].startMs - t0)
        let sustainMs = sustain.milliseconds
        var i = firstBad + 1
        while i < windows.count {
            let w = windows[i]
            guard w.ok > 0, w.errorCount == 0 else { i += 1; continue }
            let runEnd = w.startMs + sustainMs
            var j = i, clean = true
            while j < windows.count, windows[j].startMs < runEnd {
                if windows[j].errorCount > 0 { clean = false; break }
                j += 1
            }
            let covered = windows[j - 1].startMs + windows[j - 1].lengthMs >= runEnd
            if clean && covered {
                let firstAck = obs.load.acked
                    .filter { $0.ackMs >= Double(max(w.startMs, t0)) && $0.ackMs < Double(w.startMs + w.lengthMs) }
                    .map(\.ackMs).min()
                let at = firstAck.map { Int($0.rounded(.up)) } ?? w.startMs
                a.recoveryMs = max(0, at - t0)
                return a
            }
            if !clean { i = j + 1 } else { return a }  // clean but data ends before the run is long enough
        }
        return a
    }
}

extension RecoveryAnalysis {
    /// Application recovered (the JSON key stays `recoveryMs`).
    public var applicationRecoveredMs: Int? { recoveryMs }

    /// Whether the run has service-probe data to read the service-restored instant from.
    public var hasProbe: Bool { probeIntervalMs != nil }

    /// The instant `judges` names, or the application instant when there is no probe data (`fellBack` true).
    public func instant(_ judges: RTOInstant) -> (instant: RTOInstant, ms: Int?, fellBack: Bool) {
        switch judges {
        case .serviceRestored where hasProbe: (.serviceRestored, serviceRestoredMs, false)
        case .serviceRestored: (.applicationRecovered, recoveryMs, true)
        case .applicationRecovered: (.applicationRecovered, recoveryMs, false)
        }
    }
}
