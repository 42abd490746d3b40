/// What the application saw over a planned change it should only have waited through (a switchover behind a paused
/// pooler): the errors of its write workloads and the longest wait of an acknowledged write, over the span from the
/// first injection to the end of the heal (`Targets.writeErrors`, `Targets.longestWriteWait`; docs/rto.md).
public enum WaitChecks {
    public static func evaluate(_ scenario: Scenario, _ obs: Observations) -> [Verdict] {
        let t = scenario.targets
        var out: [Verdict] = []
        if let n = t.writeErrors { out.append(writeErrors(scenario, obs, target: n)) }
        if let d = t.longestWriteWait { out.append(longestWait(scenario, obs, target: d)) }
        return out
    }

    static let writeErrorsTitle = "Write errors (from the injection to the heal's end)"
    static let longestWaitTitle = "Longest write wait (from the injection to the heal's end)"

    /// From the first injection to the end of the heal (the end of the run when the heal did not finish).
    static func span(_ obs: Observations) -> Range<Int>? {
        guard let from = obs.injectedAtMs else { return nil }
        return from..<max(from, obs.healFinishedAtMs ?? obs.endMs)
    }

    static func skipped(_ scenario: Scenario, _ obs: Observations) -> VerdictResult? {
        if !scenario.hasWrites { return .skipped(reason: "no write workload") }
        if span(obs) == nil { return Assertions.aborted(obs) ?? .skipped(reason: "no fault was injected") }
        return nil
    }

    static func spanNote(_ r: Range<Int>) -> String {
        "span +\(DurationText.human(ms: r.lowerBound))…+\(DurationText.human(ms: r.upperBound)) after load start (the first injection to the heal's end)"
    }

    /// Every error the write workloads' clients saw in the span, a request failed fast in its reconnect backoff too.
    public static func writeErrors(_ scenario: Scenario, _ obs: Observations, target: Int) -> Verdict {
        let id = "write-errors", title = writeErrorsTitle
        if let s = skipped(scenario, obs) { return Verdict(id: id, title: title, result: s) }
        let range = span(obs)!
        let names = Set(scenario.workloads.filter(\.isWrite).map(\.name))
        let ws = obs.load.windows.filter { names.contains($0.workload) && range.contains($0.startMs) }
        guard !ws.isEmpty else { return Verdict(id: id, title: title, result: Assertions.aborted(obs) ?? .skipped(reason: "no write windows in the span")) }
        var byOutcome: [Outcome: Int] = [:]
        for w in ws { for (k, v) in w.errors { byOutcome[k, default: 0] += v } }
        let errors = byOutcome.values.reduce(0, +), ok = ws.reduce(0) { $0 + $1.ok }
        let detail = byOutcome.sorted { $0.key < $1.key }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " ")
        return Verdict(id: id, title: title,
                       result: .judge(.count(errors), atMost: .count(target), why: "\(errors) write errors (\(detail))"),
                       notes: [spanNote(range), "\(ok) writes acknowledged, \(errors) failed" + (detail.isEmpty ? "" : ": \(detail)")])
    }

    /// The longest an acknowledged write started in the span took, from its intended start to its COMMIT's answer.
    public static func longestWait(_ scenario: Scenario, _ obs: Observations, target: Duration) -> Verdict {
        let id = "longest-write-wait", title = longestWaitTitle
        if let s = skipped(scenario, obs) { return Verdict(id: id, title: title, result: s) }
        let range = span(obs)!
        let inSpan = obs.load.acked.filter { $0.startMs >= Double(range.lowerBound) && $0.startMs < Double(range.upperBound) }
        guard let longest = inSpan.max(by: { ($0.ackMs - $0.startMs) < ($1.ackMs - $1.startMs) }) else {
            return Verdict(id: id, title: title, result: Assertions.aborted(obs) ?? .skipped(reason: "no acknowledged write started in the span"))
        }
        let ms = Int((longest.ackMs - longest.startMs).rounded(.up))
        return Verdict(id: id, title: title,
                       result: .judge(.ms(ms), atMost: .ms(target.milliseconds), why: "a write waited \(DurationText.human(ms: ms))"),
                       notes: [spanNote(range),
                               "longest: write \(longest.id), started +\(DurationText.human(ms: Int(longest.startMs))), acknowledged +\(DurationText.human(ms: Int(longest.ackMs))) by \(longest.server)",
                               "\(inSpan.count) writes started in the span were acknowledged"])
    }
}
