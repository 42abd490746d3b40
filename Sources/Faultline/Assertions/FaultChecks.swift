/// Verdicts from the environment's direct probes (split brain, DCS-loss demotion, replication lag after
/// the heal), and what becomes of every verdict when the fault could not be injected here. Pure.
public enum FaultChecks {
    /// Replay lag every replica must be back under after the heal, within the settle target.
    public static let lagBoundBytes = 16 << 20

    public static func evaluate(_ scenario: Scenario, _ obs: Observations) -> [Verdict] {
        let kinds = Set(scenario.injectedFaults.map(\.kind))
        guard let p = obs.probes else {
            // A split brain the scenario provokes must be seen; without direct probes it cannot pass.
            return scenario.splitBrain == .provoked ? [splitBrainProvoked(obs, ProbeReport())] : []
        }
        var out: [Verdict] = []
        // With no probe round there is nothing to judge: the verdicts say so (skipped), never vanish.
        let noRounds = "not measured: the direct write probes completed no round"
        if scenario.splitBrain == .provoked {
            out.append(splitBrainProvoked(obs, p))
        } else if !p.rounds.isEmpty {
            out.append(splitBrain(p))
        } else {
            out.append(Verdict(id: "split-brain", title: splitBrainTitle, result: .skipped(reason: noRounds)))
        }
        if kinds.contains(.dcsQuorumLoss) {
            out.append(p.rounds.isEmpty ? Verdict(id: "dcs-demotion", title: dcsDemotionTitle, result: .skipped(reason: noRounds))
                                        : dcsDemotion(obs, p))
        }
        if !kinds.isDisjoint(with: [.pauseReplay, .bandwidth, .packetLoss, .latency]) {
            out.append(lagRecovery(scenario, obs, p))
        }
        return out
    }

    /// At most one member acknowledged a direct write in any probe round.
    static let splitBrainTitle = "No split brain (direct writes to every member)"

    public static func splitBrain(_ p: ProbeReport) -> Verdict {
        let title = splitBrainTitle
        let maxAccepted = p.rounds.map(\.accepted.count).max() ?? 0
        let bad = p.rounds.filter { $0.accepted.count > 1 }
        var notes = ["\(p.rounds.count) probe rounds, +\(DurationText.human(ms: p.rounds.first?.atMs ?? 0))…+\(DurationText.human(ms: p.rounds.last?.atMs ?? 0)) after load start"]
        let members = Set(p.rounds.flatMap { $0.accepted + Array($0.refused.keys) }).sorted()
        for m in members {
            let acc = p.rounds.filter { $0.accepted.contains(m) }
            var line = "\(m): accepted \(acc.count) of \(p.rounds.count)"
            if let f = acc.first, let l = acc.last { line += " (first +\(DurationText.human(ms: f.atMs)), last +\(DurationText.human(ms: l.atMs)))" }
            var why: [String: Int] = [:]
            for r in p.rounds { if let w = r.refused[m] { why[w, default: 0] += 1 } }
            if !why.isEmpty { line += "; refused: " + why.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
            notes.append(line)
        }
        let none = p.rounds.filter { $0.accepted.isEmpty }.count
        notes.append("\(none) round(s) with no member accepting writes")
        notes += p.notes
        return Verdict(id: "split-brain", title: title,
                       result: .judge(.count(maxAccepted), atMost: .count(1),
                                      why: "\(bad.count) round(s) in which \(maxAccepted) members acknowledged writes at the same time"),
                       notes: notes, items: bad.map { "+\(DurationText.human(ms: $0.atMs)): " + $0.accepted.sorted().joined(separator: ", ") })
    }

    /// For a scenario that provokes a split brain on purpose (`ExpectSplitBrain()`): passes only when some
    /// probe round between the first injection and the start of the heal saw two or more members
    /// acknowledging writes, and no round after the heal finished did. Rounds while the heal runs are
    /// the heal's own business and are not judged. Measured: split-brain rounds after the heal (target 0).
    public static func splitBrainProvoked(_ obs: Observations, _ p: ProbeReport) -> Verdict {
        let id = "split-brain-provoked", title = "Split brain provoked on purpose: seen during the fault, none after the heal"
        let target = Quantity.count(0)
        guard let injectedAt = obs.events.first(where: { $0.kind == .faultInjected })?.atMs else {
            return Verdict(id: id, title: title, result: Assertions.aborted(obs) ?? .error("no fault was injected"))
        }
        let healStart = obs.events.first { $0.kind == .healStarted && $0.atMs >= injectedAt }?.atMs
        let during = p.rounds.filter { $0.accepted.count > 1 && $0.atMs >= injectedAt && $0.atMs < (healStart ?? Int.max) }
        var notes = ["\(p.rounds.count) probe rounds; \(during.count) with two or more members acknowledging writes before the heal"]
        if let f = during.first, let l = during.last {
            notes.append("first seen +\(DurationText.human(ms: f.atMs - injectedAt)) after the injection ("
                + f.accepted.sorted().joined(separator: ", ") + "), last +\(DurationText.human(ms: l.atMs - injectedAt))")
        }
        let items = during.map { "+\(DurationText.human(ms: $0.atMs)): " + $0.accepted.sorted().joined(separator: ", ") }
        guard !during.isEmpty else {
            return Verdict(id: id, title: title, result: Assertions.aborted(obs) ?? .failed(measured: nil, target: target,
                why: "the scenario provokes a split brain, but no probe round saw two members accepting writes during the fault"),
                notes: notes + p.notes)
        }
        guard let healed = obs.healFinishedAtMs else {
            return Verdict(id: id, title: title, result: Assertions.aborted(obs) ?? .failed(measured: nil, target: target,
                why: "the heal did not finish, so the split brain was never shown to end"), notes: notes + p.notes, items: items)
        }
        let after = p.rounds.filter { $0.atMs >= healed }
        let bad = after.filter { $0.accepted.count > 1 }
        notes.append("\(after.count) probe round(s) after the heal, \(bad.count) with two or more writers")
        if after.isEmpty { notes.append("no probe round after the heal: the end of the split brain rests on the settle checks") }
        return Verdict(id: id, title: title,
                       result: .judge(.count(bad.count), atMost: target,
                                      why: "\(bad.count) round(s) after the heal still had two members acknowledging writes"),
                       notes: notes + p.notes, items: items + bad.map { "after heal +\(DurationText.human(ms: $0.atMs)): " + $0.accepted.sorted().joined(separator: ", ") })
    }

    /// With the DCS out of quorum, the primary must stop accepting writes before the fault is healed
    /// (Patroni demotes it unless failsafe mode is on).
    static let dcsDemotionTitle = "Primary demoted while the DCS has no quorum"

    public static func dcsDemotion(_ obs: Observations, _ p: ProbeReport) -> Verdict {
        let title = dcsDemotionTitle
        guard let inj = obs.events.first(where: { $0.kind == .faultInjected && ($0.detail ?? "").hasPrefix("stop etcd") }) else {
            return Verdict(id: "dcs-demotion", title: title, result: .skipped(reason: "the DCS fault was not injected"))
        }
        let healAt = obs.first(.healStarted, atOrAfter: inj.atMs)?.atMs ?? obs.endMs
        let target = Quantity.ms(max(0, healAt - inj.atMs))
        var notes = ["DCS quorum lost at +\(DurationText.human(ms: inj.atMs)), heal started at +\(DurationText.human(ms: healAt))"]
        if let back = p.rounds.first(where: { $0.atMs >= healAt && !$0.accepted.isEmpty }) {
            notes.append("writes accepted again at +\(DurationText.human(ms: back.atMs)) by \(back.accepted.joined(separator: ", "))")
        }
        guard let demoted = p.rounds.first(where: { $0.atMs >= inj.atMs && $0.atMs < healAt && $0.accepted.isEmpty }) else {
            return Verdict(id: "dcs-demotion", title: title, result: .failed(measured: nil, target: target,
                why: "some member kept accepting writes for the whole \(DurationText.human(ms: target.value.asInt)) without DCS quorum (failsafe mode on?)"),
                notes: notes)
        }
        let measured = demoted.atMs - inj.atMs
        notes.append("no member accepted writes from +\(DurationText.human(ms: demoted.atMs))")
        return Verdict(id: "dcs-demotion", title: title,
                       result: .judge(.ms(measured), atMost: target, why: "demoted only after the heal"), notes: notes)
    }

    /// Replay lag may exceed its bound during the fault, but must be back under it within the settle
    /// target after the heal. Notes give the worst lag seen, bytes and seconds, per replica.
    public static func lagRecovery(_ scenario: Scenario, _ obs: Observations, _ p: ProbeReport) -> Verdict {
        let title = "Replication lag back under \(lagBoundBytes >> 20) MiB (from the heal's end)"
        var notes: [String] = []
        for m in Set(p.lag.map(\.member)).sorted() {
            let s = p.lag.filter { $0.member == m }
            let b = s.compactMap(\.bytes).max() ?? 0
            let sec = s.compactMap(\.seconds).max()
            notes.append("\(m): max replay lag \(b) bytes" + (sec.map { ", \(Double(Int($0 * 10)) / 10) s" } ?? ""))
        }
        guard let healed = obs.healFinishedAtMs else {
            return Verdict(id: "lag-recovery", title: title, result: Assertions.aborted(obs) ?? .skipped(reason: "the heal did not finish"), notes: notes)
        }
        let after = p.lag.filter { $0.atMs >= healed }
        let target = Quantity.ms(scenario.targets.settle.milliseconds)
        guard !after.isEmpty else {
            return Verdict(id: "lag-recovery", title: title, result: .skipped(reason: "no lag sample after the heal"), notes: notes)
        }
        // The first sampling instant from which every later sample is under the bound.
        let times = Array(Set(after.map(\.atMs))).sorted()
        let lastBad = after.filter { ($0.bytes ?? Int.max) > lagBoundBytes }.map(\.atMs).max()
        let okFrom = lastBad.flatMap { lb in times.first { $0 > lb } } ?? (lastBad == nil ? times.first : nil)
        guard let ok = okFrom else {
            return Verdict(id: "lag-recovery", title: title, result: .failed(measured: nil, target: target,
                why: "lag still over \(lagBoundBytes) bytes at the last sample, +\(DurationText.human(ms: (times.last ?? healed) - healed)) after the heal"),
                notes: notes)
        }
        return Verdict(id: "lag-recovery", title: title,
                       result: .judge(.ms(ok - healed), atMost: target, why: "lag came back under the bound too late"), notes: notes)
    }

    /// When a fault could not be injected on this machine, every verdict is skipped with the reason, and
    /// one "fault" verdict says which fault and why. Otherwise the verdicts unchanged.
    public static func applyingUnsupported(_ verdicts: [Verdict], _ obs: Observations) -> [Verdict] {
        guard let why = obs.unsupported, !why.isEmpty else { return verdicts }
        let reason = "unsupported by this environment: " + why.joined(separator: "; ")
        let head = Verdict(id: "fault", title: "Fault injection", result: .skipped(reason: reason))
        return [head] + verdicts.filter { $0.id != "harness" }.map {
            Verdict(id: $0.id, title: $0.title, result: .skipped(reason: "not measured: \(reason)"), notes: $0.notes)
        }
    }
}

extension Scenario {
    /// Every fault the scenario injects, in order.
    public var injectedFaults: [FaultSpec] {
        steps.compactMap { if case .inject(let f) = $0 { f } else { nil } }
    }
}
