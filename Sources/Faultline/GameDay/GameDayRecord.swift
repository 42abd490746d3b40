/// One hypothesis of a game day: a default one is linked to the verdict that judges it; one the team typed is judged
/// by the team after the run (`held`).
public struct Hypothesis: Codable, Sendable, Equatable {
    public var text: String
    /// The verdict that judges it (`Verdict.id`); nil: typed by the team, judged by them.
    public var verdict: String?
    /// The team's own judgement of an unlinked hypothesis: true held, false did not, nil not judged.
    public var held: Bool?

    public init(_ text: String, verdict: String? = nil, held: Bool? = nil) {
        self.text = text
        self.verdict = verdict
        self.held = held
    }
}

/// A hypothesis against what the run showed.
public struct HypothesisOutcome: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case passed, failed, skipped, error, aborted
        /// The team said it held / did not hold.
        case held
        case notHeld = "not-held"
        /// No verdict judged it, or the team left it open.
        case notJudged = "not-judged"
    }

    public var hypothesis: Hypothesis
    public var status: Status
    /// The verdict's measured value, when it has one ("4.2 s").
    public var measured: String?
    /// The verdict's target ("≤ 30 s").
    public var target: String?
    /// Why it failed or was skipped, or who judged it.
    public var detail: String?

    public init(hypothesis: Hypothesis, status: Status, measured: String? = nil, target: String? = nil, detail: String? = nil) {
        self.hypothesis = hypothesis
        self.status = status
        self.measured = measured
        self.target = target
        self.detail = detail
    }
}

/// A follow-up agreed after the run.
public struct ActionItem: Codable, Sendable, Equatable {
    /// Who does it; empty when nobody was named.
    public var owner: String
    public var text: String

    public init(owner: String, text: String) {
        self.owner = owner
        self.text = text
    }

    /// `Ana: fix the alert` → owner Ana; without a colon the whole line is the text, with no owner. nil for an empty line.
    public static func parse(_ line: String) -> ActionItem? {
        let t = line.gameDayTrimmed
        guard !t.isEmpty else { return nil }
        if let colon = t.firstIndex(of: ":") {
            let owner = String(t[..<colon]).gameDayTrimmed, text = String(t[t.index(after: colon)...]).gameDayTrimmed
            if !owner.isEmpty, !text.isEmpty { return ActionItem(owner: owner, text: text) }
        }
        return ActionItem(owner: "", text: t)
    }
}

/// Everything a game day records beyond the run's own report: who took part, what they expected and what they found.
/// Written as gameday.json beside the run's report; gameday.md and gameday.html render it with the report.
public struct GameDayRecord: Codable, Sendable, Equatable {
    public var scenario: String
    public var runId: String
    public var participants: [String]
    public var hypotheses: [Hypothesis]
    public var findings: [String]
    public var actionItems: [ActionItem]
    /// The notes and observations as typed (their times: ms since the run began); the report's timeline holds them too.
    public var journal: [RunJournal.Entry]

    public init(scenario: String, runId: String, participants: [String] = [], hypotheses: [Hypothesis] = [],
                findings: [String] = [], actionItems: [ActionItem] = [], journal: [RunJournal.Entry] = []) {
        self.scenario = scenario
        self.runId = runId
        self.participants = participants
        self.hypotheses = hypotheses
        self.findings = findings
        self.actionItems = actionItems
        self.journal = journal
    }

    /// The hypotheses the team typed themselves, which they judge after the run.
    public var ownHypotheses: [Int] { hypotheses.indices.filter { hypotheses[$0].verdict == nil } }

    /// Each hypothesis against `verdicts`: a linked one takes its verdict's status and measured value (not judged when
    /// the run produced no such verdict); an unlinked one what the team said.
    public func outcomes(_ verdicts: [Verdict]) -> [HypothesisOutcome] {
        hypotheses.map { h in
            guard let id = h.verdict else {
                switch h.held {
                case true?: return HypothesisOutcome(hypothesis: h, status: .held, detail: "judged by the team")
                case false?: return HypothesisOutcome(hypothesis: h, status: .notHeld, detail: "judged by the team")
                case nil: return HypothesisOutcome(hypothesis: h, status: .notJudged, detail: "left open by the team")
                }
            }
            guard let v = verdicts.first(where: { $0.id == id }) else {
                return HypothesisOutcome(hypothesis: h, status: .notJudged, detail: "no verdict \(id) in this run")
            }
            let r = v.result
            let status: HypothesisOutcome.Status = switch r.status {
            case .passed: .passed
            case .failed: .failed
            case .skipped: .skipped
            case .error: .error
            case .aborted: .aborted
            }
            return HypothesisOutcome(hypothesis: h, status: status,
                                     measured: r.measured?.description ?? (r.status == .failed ? "never" : nil),
                                     target: r.target.map { "≤ \($0)" }, detail: r.message.map(SecretMasker.mask))
        }
    }

    /// `Ana, Ben ,, Cleo` → [Ana, Ben, Cleo].
    public static func parseParticipants(_ line: String) -> [String] {
        line.split(separator: ",").map { String($0).gameDayTrimmed }.filter { !$0.isEmpty }
    }

    /// The team's answer to "did it hold?": y/yes true, n/no false, anything else (empty included) not judged.
    public static func parseHeld(_ line: String) -> Bool? {
        switch line.gameDayTrimmed.lowercased() {
        case "y", "yes": true
        case "n", "no": false
        default: nil
        }
    }
}

extension GameDay {
    /// The game day's timeline: the run's events (phases, faults, leader changes, heal; the notes and observations are
    /// among them, at their times), in time order, ties kept in the order they were recorded.
    public static func timeline(_ obs: Observations) -> [TimelineEvent] {
        obs.events.enumerated().sorted { ($0.element.atMs, $0.offset) < ($1.element.atMs, $1.offset) }.map(\.element)
    }
}

extension String {
    /// Without leading and trailing white space.
    var gameDayTrimmed: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
