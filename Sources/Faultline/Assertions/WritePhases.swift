/// What writes did while the fault was in effect (blocked or continued), and how soon they came back after
/// the heal, from the load's ledger and windows and the environment's direct probes. Pure.
public enum WritePhases {
    /// The verdicts the scenario's targets ask for: `writes-during-fault`, `writes-back-after-heal`.
    public static func evaluate(_ scenario: Scenario, _ obs: Observations) -> [Verdict] {
        var out: [Verdict] = []
        if let w = scenario.targets.writesDuringFault { out.append(writesDuringFault(w, scenario, obs)) }
        if let b = scenario.targets.writesBackAfterHeal { out.append(writesBackAfterHeal(b, scenario, obs)) }
        return out
    }

    /// The fault's span, ms since load start: from the first `fault-applied` (else the injection) to the first
    /// `heal-started` after it (else the end of the run). nil when nothing was injected.
    public static func faultSpan(_ obs: Observations) -> Range<Int>? {
        guard let injected = obs.injectedAtMs else { return nil }
        let from = obs.first(.faultApplied, atOrAfter: injected)?.atMs ?? injected
        let to = obs.first(.healStarted, atOrAfter: from)?.atMs ?? obs.endMs
        return from..<max(from, to)
    }

    /// What the writes of the fault's span saw.
    public struct FaultWrites: Equatable, Sendable {
        public var span: Range<Int>
        /// Load writes started after the fault took effect and acknowledged before the heal started.
        public var acknowledged: [AckedWrite]
        /// Ledger-writes requests finished in the span, by outcome (`ok` included).
        public var outcomes: [Outcome: Int]
        /// The member that was primary at injection, and its direct probes in the span.
        public var primary: String?
        public var probeRounds: Int
        public var probeAccepted: Int
        public var probeRefused: [String: Int]

        /// Writes acknowledged during the fault: the load's and the old primary's direct probes.
        public var acceptedCount: Int { acknowledged.count + probeAccepted }
        public var blocked: Bool { acceptedCount == 0 }
    }

    /// Gathers the writes of the fault's span; nil when nothing was injected.
    public static func faultWrites(_ obs: Observations, workload: String = "ledger-writes") -> FaultWrites? {
        guard let span = faultSpan(obs) else { return nil }
        let acked = obs.load.acked.filter { $0.startMs >= Double(span.lowerBound) && $0.ackMs < Double(span.upperBound) }
        var outcomes: [Outcome: Int] = [:]
        for w in obs.load.windows where w.workload == workload && span.contains(w.startMs) {
            if w.ok > 0 { outcomes[.ok, default: 0] += w.ok }
            for (k, v) in w.errors { outcomes[k, default: 0] += v }
        }
        var fw = FaultWrites(span: span, acknowledged: acked, outcomes: outcomes, primary: obs.primaryAtInjection,
                             probeRounds: 0, probeAccepted: 0, probeRefused: [:])
        if let p = obs.probes, let m = obs.primaryAtInjection {
            let rounds = p.rounds.filter { span.contains($0.atMs) }
            fw.probeRounds = rounds.count
            fw.probeAccepted = rounds.filter { $0.accepted.contains(m) }.count
            for r in rounds { if let why = r.refused[m] { fw.probeRefused[why, default: 0] += 1 } }
        }
        return fw
    }

    /// Whether writes were blocked or continued while the fault was in effect, judged against `expected`.
    public static func writesDuringFault(_ expected: WritesDuringFault, _ scenario: Scenario, _ obs: Observations) -> Verdict {
        let title = "Writes during the fault: expected \(expected)"
        guard scenario.hasWrites else {
            return Verdict(id: "writes-during-fault", title: title, result: .skipped(reason: "no write workload"))
        }
        guard let fw = faultWrites(obs) else {
            return Verdict(id: "writes-during-fault", title: title, result: Assertions.aborted(obs) ?? .error("no fault was injected"))
        }
        let spanText = "+\(DurationText.human(ms: fw.span.lowerBound))…+\(DurationText.human(ms: fw.span.upperBound))"
        let seen = fw.blocked ? "blocked" : "continued"
        var notes = ["writes \(seen) during the fault (\(spanText), fault applied → heal started)",
                     "load: \(fw.acknowledged.count) writes started during the fault were acknowledged before the heal; "
                        + "requests finished in the span: " + describe(fw.outcomes)]
        if let m = fw.primary {
            var line = "direct probes on the primary \(m): accepted \(fw.probeAccepted) of \(fw.probeRounds) rounds"
            if !fw.probeRefused.isEmpty {
                line += "; refused: " + fw.probeRefused.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            }
            notes.append(line)
        }
        let result: VerdictResult
        switch expected {
        case .blocked:
            let sample = fw.acknowledged.prefix(3).map { "\($0.id) acked at +\(DurationText.human(ms: Int($0.ackMs)))" }
            result = .judge(.count(fw.acceptedCount), atMost: .count(0),
                            why: "writes continued: \(fw.acceptedCount) acknowledged while every commit should have waited"
                                + (sample.isEmpty ? "" : " (" + sample.joined(separator: ", ") + ")"))
        case .continued(let maxStall):
            let stall = longestStall(obs.load.acked.map(\.ackMs), in: fw.span)
            notes.append("longest stretch without an acknowledged write: \(DurationText.human(ms: stall))")
            result = .judge(.ms(stall), atMost: .ms(maxStall.milliseconds),
                            why: "writes stalled for \(DurationText.human(ms: stall)) during the fault")
        }
        return Verdict(id: "writes-during-fault", title: title, result: result, notes: notes,
                       items: fw.acknowledged.map(\.id))
    }

    /// Time from the start of the heal to the first acknowledged write of a sustained clean run.
    public static func writesBackAfterHeal(_ bound: Duration, _ scenario: Scenario, _ obs: Observations) -> Verdict {
        let title = "Writes back after the heal (from the heal's start)"
        let target = Quantity.ms(bound.milliseconds)
        guard scenario.hasWrites else {
            return Verdict(id: "writes-back-after-heal", title: title, result: .skipped(reason: "no write workload"))
        }
        guard let inj = obs.injectedAtMs, let healAt = obs.first(.healStarted, atOrAfter: inj)?.atMs else {
            return Verdict(id: "writes-back-after-heal", title: title, result: Assertions.aborted(obs) ?? .skipped(reason: "the fault was not healed"))
        }
        var notes = ["heal started at +\(DurationText.human(ms: healAt))",
                     "sustained success required: \(DurationText.format(scenario.targets.sustain)) clean"]
        if let done = obs.first(.healFinished, atOrAfter: healAt)?.atMs {
            notes.append("heal finished at +\(DurationText.human(ms: done)) (+\(DurationText.human(ms: done - healAt)))")
        }
        guard let back = sustainedCleanStart(obs, from: healAt, sustain: scenario.targets.sustain) else {
            return Verdict(id: "writes-back-after-heal", title: title, result: Assertions.aborted(obs) ?? .failed(measured: nil, target: target,
                why: "writes did not run clean for \(DurationText.format(scenario.targets.sustain)) in the \(DurationText.human(ms: max(0, obs.endMs - healAt))) observed after the heal started"),
                notes: notes)
        }
        let measured = back - healAt
        var between: [Outcome: Int] = [:]
        for w in obs.load.windows where w.workload == "ledger-writes" && w.startMs + w.lengthMs > healAt && w.startMs < back {
            if w.ok > 0 { between[.ok, default: 0] += w.ok }
            for (k, v) in w.errors { between[k, default: 0] += v }
        }
        notes.append("write requests finished from the heal's start until writes were back: " + describe(between))
        return Verdict(id: "writes-back-after-heal", title: title,
                       result: .judge(.ms(measured), atMost: target, why: "writes came back \(DurationText.human(ms: measured)) after the heal started"),
                       notes: notes)
    }

    /// The first acknowledged write at or after `from` that starts a clean run of `sustain` (windows with at least
    /// one ok and no error, no error window in between, data covering the whole run), ms since load start; nil if none.
    public static func sustainedCleanStart(_ obs: Observations, workload: String = "ledger-writes", from: Int, sustain: Duration) -> Int? {
        let windows = obs.load.windows.filter { $0.workload == workload && $0.startMs + $0.lengthMs > from }.sorted { $0.startMs < $1.startMs }
        let sustainMs = sustain.milliseconds
        var i = 0
        while i < windows.count {
            let w = windows[i]
            guard w.ok > 0, w.errorCount == 0 else { i += 1; continue }
            let runEnd = max(w.startMs, from) + sustainMs
            var j = i, clean = true
            while j < windows.count, windows[j].startMs < runEnd {
                if windows[j].errorCount > 0 { clean = false; break }
                j += 1
            }
            guard clean else { i = j + 1; continue }
            guard windows[j - 1].startMs + windows[j - 1].lengthMs >= runEnd else { return nil }  // data ends too soon
            let firstAck = obs.load.acked
                .filter { $0.ackMs >= Double(max(w.startMs, from)) && $0.ackMs < Double(w.startMs + w.lengthMs) }
                .map(\.ackMs).min()
            return firstAck.map { Int($0.rounded(.up)) } ?? max(w.startMs, from)
        }
        return nil
    }

    /// The longest time within `span` between acknowledgements (span edges included), ms.
    public static func longestStall(_ ackMs: [Double], in span: Range<Int>) -> Int {
        let points = [Double(span.lowerBound)] + ackMs.filter { $0 >= Double(span.lowerBound) && $0 < Double(span.upperBound) }.sorted()
            + [Double(span.upperBound)]
        return zip(points, points.dropFirst()).map { Int(($1 - $0).rounded()) }.max() ?? 0
    }

    /// "During the fault (+a…+b): x of y writes failed: outcome=n ..." for the RTO notes; nil without a fault or writes.
    public static func faultErrorsNote(_ obs: Observations) -> String? {
        guard let fw = faultWrites(obs) else { return nil }
        let total = fw.outcomes.values.reduce(0, +)
        guard total > 0 else { return nil }
        let failed = total - (fw.outcomes[.ok] ?? 0)
        return "during the fault (+\(DurationText.human(ms: fw.span.lowerBound))…+\(DurationText.human(ms: fw.span.upperBound))): "
            + "\(failed) of \(total) write requests failed (\(percent(Double(failed) / Double(total))))"
            + (failed > 0 ? ": " + describe(fw.outcomes.filter { $0.key != .ok }) : "")
    }

    static func describe(_ outcomes: [Outcome: Int]) -> String {
        outcomes.isEmpty ? "none" : outcomes.sorted { $0.key < $1.key }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " ")
    }
}
