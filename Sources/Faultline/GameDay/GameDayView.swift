/// The game day's live terminal view as text: a pure function from a snapshot to lines no wider than the screen.
/// The CLI adds the ANSI (cursor home, clear to end of line) in one wrapper and redraws it about four times a second.
public enum GameDayView {
    /// What the view shows at one instant.
    public struct Snapshot: Sendable, Equatable {
        public var scenario: String
        public var runId: String
        /// The last progress report; nil before the first.
        public var progress: RunProgress?
        /// The run's clock now, ms since it began (it goes on between progress reports); nil: the progress' own.
        public var runMs: Int?
        /// When the current phase began, ms since the run began (the caller tracks phase changes); nil: the progress' own.
        public var phaseStartedMs: Int?
        /// One label per scenario step (`GameDay.stepLabels`).
        public var steps: [String]
        public var control: GameDayControl
        /// The notes and observations so far.
        public var notes: [RunJournal.Entry]
        /// The last few log lines (warnings and errors).
        public var log: [String]

        public init(scenario: String, runId: String, progress: RunProgress? = nil, runMs: Int? = nil, phaseStartedMs: Int? = nil,
                    steps: [String], control: GameDayControl, notes: [RunJournal.Entry] = [], log: [String] = []) {
            self.scenario = scenario
            self.runId = runId
            self.progress = progress
            self.runMs = runMs
            self.phaseStartedMs = phaseStartedMs
            self.steps = steps
            self.control = control
            self.notes = notes
            self.log = log
        }
    }

    /// The progress reports merged for the view: a report without the load, the members or the alerts keeps the last
    /// ones seen (the runner sends some reports with less detail), except that the load is gone once it stopped; and
    /// when the current phase began.
    public struct Feed: Sendable, Equatable {
        public private(set) var progress: RunProgress?
        /// ms since the run began.
        public private(set) var phaseStartedMs: Int?

        public init() {}

        public mutating func update(_ p: RunProgress) {
            var merged = p
            if let old = progress {
                let loadOver = [RunPhase.loadOff, .verify, .done].contains(p.phase)
                if merged.load == nil, !loadOver { merged.load = old.load }
                if merged.members == nil { merged.members = old.members }
                if merged.alerts == nil { merged.alerts = old.alerts }
                if merged.topology == nil { merged.topology = old.topology }
            }
            if p.phase != progress?.phase || phaseStartedMs == nil {
                phaseStartedMs = p.elapsedMs - (p.phaseElapsedMs ?? 0)
            } else if let e = p.phaseElapsedMs {
                phaseStartedMs = p.elapsedMs - e
            }
            progress = merged
        }
    }

    /// How many notes and log lines the view lists at most (the newest).
    public static let noteRows = 5, logRows = 3

    /// The view's lines, each cut to `width` characters.
    public static func lines(_ s: Snapshot, width: Int) -> [String] {
        var out: [String] = []
        let p = s.progress
        let runMs = s.runMs ?? p?.elapsedMs ?? 0
        let phaseMs = s.phaseStartedMs.map { max(0, runMs - $0) } ?? p?.phaseElapsedMs
        var head = "GAME DAY  \(s.scenario)  run \(clock(runMs))"
        if let p { head += "  phase \(p.phase.rawValue)" + (phaseMs.map { " \(clock($0))" } ?? "") }
        out.append(head)
        out.append("run id \(s.runId)")
        out.append("")
        if let l = p?.load {
            var line = "load     \(Int((l.okPerSecond + l.errorsPerSecond).rounded()))/s  ok \(Int(l.okPerSecond.rounded()))/s"
                + "  err \(Int(l.errorsPerSecond.rounded()))/s (\(l.totalErrors) so far)"
            line += "  p99 " + (l.recentP99Us.map { DurationText.human(ms: $0 / 1_000) } ?? "–")
            out.append(line)
            let classes = l.errorsByOutcome.filter { $0.value > 0 }.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            out.append("errors   " + (classes.isEmpty ? "none" : classes.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: "  ")))
        } else {
            out.append("load     off")
            out.append("errors   –")
        }
        if let t = p?.members, !t.members.isEmpty {
            let nameWidth = t.members.map(\.name.count).max() ?? 0
            for (i, m) in t.members.sorted(by: { $0.name < $1.name }).enumerated() {
                let tl = m.timeline.map { "tl\($0)" } ?? "tl?"
                let lag = m.role == .primary ? "" : (m.lagBytes.map { "lag \(bytes($0))" } ?? (m.role == .down ? "" : "lag ?"))
                out.append((i == 0 ? "members  " : "         ") + m.name.padded(nameWidth) + "  " + m.role.rawValue.padded(13)
                           + "  " + tl.padded(5) + "  " + lag)
            }
            let lags = t.members.compactMap { m in m.lagBytes.map { (m.name, $0) } }
            if let worst = lags.max(by: { $0.1 < $1.1 }) {
                out.append("lag      max \(bytes(worst.1)) (\(worst.0))")
            } else {
                out.append("lag      –")
            }
        } else {
            out.append("members  " + (p?.topology ?? "not seen yet"))
            out.append("lag      –")
        }
        if let alerts = p?.alerts {
            let firing = alerts.filter(\.isFiring)
            out.append("alerts   " + (alerts.isEmpty ? "none" : alerts.map(\.summary).sorted().joined(separator: ", "))
                       + (firing.isEmpty && !alerts.isEmpty ? " (none firing)" : ""))
        } else {
            out.append("alerts   not read yet")
        }
        out.append("")
        let c = s.control
        let stepsOver = p.map { [RunPhase.cleanup, .observe, .loadOff, .verify, .done].contains($0.phase) } ?? false
        for (i, label) in s.steps.enumerated() {
            let mark: String
            if stepsOver, c.currentStep != nil {
                mark = i <= c.currentStep! ? "done" : "    "
            } else if let cur = c.currentStep {
                mark = i < cur ? "done" : (i == cur ? (c.gate == i ? "NEXT" : "NOW ") : "    ")
            } else {
                mark = "    "
            }
            var line = "\(mark) \(i + 1). \(label)"
            if c.gate == i { line += "   <- Enter starts it" }
            out.append(line)
        }
        out.append("")
        let recent = s.notes.suffix(noteRows)
        if s.notes.isEmpty { out.append("notes    none yet") }
        for (i, n) in recent.enumerated() {
            let at = n.atRunMs.map { "+" + clock($0) } ?? "before"
            out.append((i == 0 ? "notes    " : "         ") + "\(at)  \(n.kind.rawValue): \(SecretMasker.mask(n.text))")
        }
        for l in s.log.suffix(logRows) { out.append("log      " + SecretMasker.mask(l)) }
        out.append("")
        switch c.state {
        case .typing(let input, _):
            out.append("\(input.kind.rawValue)> \(input.text)_")
            out.append("keys     Enter saves it · Esc drops it")
        case .stopping(let why):
            out.append(why)
        case .finished:
            out.append("the run is over")
        case .watching(let gate):
            out.append((gate != nil ? "Enter next step · " : (c.auto ? "auto · " : ""))
                       + "n note · o observation · a abort (heal now) · Ctrl-C stop")
        }
        return out.map { $0.cut(width).trailingSpaceDropped }
    }

    /// `83.4 s`, `12:03.4` past a minute.
    public static func clock(_ ms: Int) -> String {
        let tenths = max(0, ms) / 100
        let s = tenths / 10, t = tenths % 10
        if s < 60 { return "\(s).\(t) s" }
        let m = s / 60, r = s % 60
        return "\(m):\(r < 10 ? "0" : "")\(r).\(t)"
    }

    /// `512 B`, `12.0 kB`, `3.4 MB`.
    public static func bytes(_ n: Int64) -> String {
        if n < 1_000 { return "\(n) B" }
        let units = ["kB", "MB", "GB", "TB"]
        var v = Double(n) / 1_000, i = 0
        while v >= 1_000, i < units.count - 1 { v /= 1_000; i += 1 }
        let tenths = Int((v * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[i])"
    }
}

extension String {
    fileprivate func padded(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
    fileprivate func cut(_ n: Int) -> String { count <= n ? self : String(prefix(max(0, n))) }
    fileprivate var trailingSpaceDropped: String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
