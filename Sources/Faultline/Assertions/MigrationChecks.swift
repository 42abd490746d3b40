/// The facts an environment's migrate operation reports in `OperationOutcome.facts`: the contract `MigrationChecks`
/// judges. Every value is a string; times are whole milliseconds.
public enum MigrationFacts {
    /// The longest any application session waited on a lock while the step ran, sampled every 100 ms from
    /// `pg_locks.waitstart` (integer ms; "0" when none waited).
    public static let lockWaitMaxMs = "lock-wait-max-ms"
    /// How many lock samples were taken while the step ran ("0": nothing was watched, the maximum proves nothing).
    public static let lockWaitSamples = "lock-wait-samples"
    /// The statement of the longest waiter; may be absent.
    public static let lockWaitQuery = "lock-wait-query"
    /// The statement that blocked the longest waiter; may be absent.
    public static let lockWaitBlocker = "lock-wait-blocker"
    /// The largest replay lag of any replica while the step ran (integer ms).
    public static let replicaLagMaxMs = "replica-lag-max-ms"
    /// The same, in bytes of WAL.
    public static let replicaLagMaxBytes = "replica-lag-max-bytes"
    /// The database's Alembic revision after the step.
    public static let revision = "revision"
    /// "yes", or "no: <one-line summary of the difference>": the database's schema against a scratch database
    /// migrated to the same revision from scratch.
    public static let schemaMatches = "schema-matches"
    /// Which migration history ran: "safe" (expand/migrate/contract) or "naive".
    public static let history = "history"
}

/// Verdicts of a schema migration under load: a scenario with a migration and `Targets.migration` set. Pure.
/// A migration is a span: a `Migrate` step (its start to its end), or a `StartMigration` step and the
/// `FinishMigration` that waits for it (the start's start to the finish's end; the facts are the finish's, the
/// revision the start's). The application's errors and p99 come from the load (the workload named
/// `applicationWorkload`); lock waits, replica lag and the resulting schema from the spans' facts (`MigrationFacts`).
/// A verdict whose facts are missing, or whose steps failed, were unsupported or never ran, is skipped (never
/// passed); `app-errors` is judged whatever the steps did. The steps' own time and success are `OperationChecks`'.
public enum MigrationChecks {
    /// The load workload that stands for the application (the demo's orders service).
    public static let applicationWorkload = "orders"

    /// The verdicts in report order: app-errors (with a bound), migration-p99 (with a factor), lock-wait (with a
    /// bound), replica-lag (with a bound), schema-at-revision. Empty without `Targets.migration` or without a migration.
    /// `versions`: the application's totals per version when the load reports them (nil: not broken down).
    public static func evaluate(_ scenario: Scenario, _ obs: Observations,
                                versions: [String: WorkloadTotals]? = nil) -> [Verdict] {
        guard let t = scenario.targets.migration else { return [] }
        let steps = spans(scenario)
        guard !steps.isEmpty else { return [] }
        var out: [Verdict] = []
        if let bound = t.appErrors { out.append(appErrors(bound, obs, versions: versions)) }
        if let factor = t.p99Factor { out.append(p99(factor, t.p99Floor, steps, obs)) }
        if let bound = t.lockWait { out.append(lockWait(bound, steps, obs)) }
        if let bound = t.replicaLag { out.append(replicaLag(bound, steps, obs)) }
        out.append(schemaAtRevision(steps, obs))
        return out
    }

    /// One migration of the scenario: a migrate step, or a start step and its finish step (indices in
    /// `Scenario.steps`), and its target revision.
    struct MigrateStep {
        /// The migrate or start step.
        var index: Int
        var revision: String
        /// The finish step of a background migration; nil for a migrate step, or a start never finished.
        var finish: Int?
        var background = false
        var label: String {
            guard background else { return "step \(index + 1) (migrate to revision \(revision))" }
            return (finish.map { "steps \(index + 1)-\($0 + 1)" } ?? "step \(index + 1)")
                + " (migrate to revision \(revision) in the background)"
        }
    }

    /// The scenario's migrations in order: each migrate step, and each start step with the next finish step.
    static func spans(_ scenario: Scenario) -> [MigrateStep] {
        var out: [MigrateStep] = []
        var open: Int?  // index in `out` of a started, unfinished background migration
        for (i, step) in scenario.steps.enumerated() {
            guard case .operation(let op, _) = step else { continue }
            switch op {
            case .migrate(let r): out.append(MigrateStep(index: i, revision: r))
            case .startMigration(let r):
                out.append(MigrateStep(index: i, revision: r, background: true))
                open = out.count - 1
            case .finishMigration:
                if let o = open { out[o].finish = i }
                open = nil
            default: continue
            }
        }
        return out
    }

    // MARK: - app-errors

    /// Errors the application workload saw over the whole load, against `appErrors`. Requests failed fast in the
    /// client's reconnect backoff follow a failed attempt counted itself: they are noted, not counted.
    static func appErrors(_ bound: Int, _ obs: Observations, versions: [String: WorkloadTotals]?) -> Verdict {
        let id = "app-errors", title = "Application (\(applicationWorkload)) errors over the whole load"
        guard let totals = obs.load.totals[applicationWorkload] else {
            return Verdict(id: id, title: title, result: Assertions.aborted(obs)
                ?? .skipped(reason: "no application workload ('\(applicationWorkload)') ran: nothing to judge"))
        }
        let errors = counted(totals)
        var notes = ["\(totals.ok) acknowledged, \(errors) error(s)" + (errors == 0 ? "" : ": " + breakdown(totals))]
        let backoff = totals.errors[.clientBackoff] ?? 0
        if backoff > 0 {
            notes.append("\(backoff) more requests failed fast, unsent, in their client's reconnect backoff (client_backoff; not counted)")
        }
        if totals.unsent > 0 { notes.append("\(totals.unsent) request(s) never sent: the workers fell behind schedule") }
        var why = "\(errors) errors: " + breakdown(totals)
        if let versions {
            notes.append("by version: " + versions.sorted { $0.key < $1.key }.map { v, vt in
                "\(v) \(counted(vt)) error(s)" + (counted(vt) == 0 ? "" : " (\(breakdown(vt)))")
            }.joined(separator: ", "))
            let failed = versions.filter { counted($0.value) > 0 }.sorted { $0.key < $1.key }
            if !failed.isEmpty {
                why += "; failed versions: " + failed.map { "\($0.key) \(counted($0.value)) (\(breakdown($0.value)))" }.joined(separator: ", ")
            }
        }
        return Verdict(id: id, title: title,
                       result: .judge(.count(errors), atMost: .count(bound), why: why), notes: notes)
    }

    /// Errors but the client-backoff ones.
    static func counted(_ t: WorkloadTotals) -> Int { t.errorCount - (t.errors[.clientBackoff] ?? 0) }

    /// "connection_lost 3, other_sqlstate 212 (42703 ×200, 23502 ×12)": the counted errors by outcome, SQLSTATEs most
    /// frequent first.
    static func breakdown(_ t: WorkloadTotals) -> String {
        t.errors.filter { $0.key != .clientBackoff && $0.value > 0 }.sorted { $0.key < $1.key }.map { outcome, n in
            var s = "\(outcome.rawValue) \(n)"
            if outcome == .otherSQLState, !t.otherSQLStates.isEmpty {
                s += " (" + t.otherSQLStates.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                    .map { "\($0.key) ×\($0.value)" }.joined(separator: ", ") + ")"
            }
            return s
        }.joined(separator: ", ")
    }

    // MARK: - migration-p99

    /// The application's ok-weighted p99 over its windows that overlap a migration's span, against
    /// max(`factor` × the same p99 over its windows before the first step, `floor`).
    static func p99(_ factor: Double, _ floor: Duration, _ steps: [MigrateStep], _ obs: Observations) -> Verdict {
        let id = "migration-p99"
        let floorMs = floor.milliseconds
        let title = "Application (\(applicationWorkload)) p99 while migrating ≤ max(\(number(factor)) × steady-state p99, \(DurationText.format(floor)))"
        let app = obs.load.windows.filter { $0.workload == applicationWorkload }
        guard !app.isEmpty else {
            return Verdict(id: id, title: title, result: Assertions.aborted(obs)
                ?? .skipped(reason: "no timeline windows of the application workload ('\(applicationWorkload)'): nothing to judge"))
        }
        var unmeasured: VerdictResult?
        var spans: [(MigrateStep, Int, Int)] = []
        for s in steps {
            switch ran(s, obs) {
            case .success(let r): spans.append((s, r.startedAtMs, r.endedAtMs ?? r.startedAtMs))
            case .failure(let u): unmeasured = unmeasured ?? u.result
            }
        }
        var notes = ["ok-weighted p99 of the 100 ms windows' p99s (an approximation of each phase's p99)"]
        let during = app.filter { w in spans.contains { w.startMs <= $0.2 && w.startMs + w.lengthMs > $0.1 } }
        let steadyEnd = steadyStateEndMs(obs)
        let steady = steadyEnd.map { end in app.filter { $0.startMs >= 0 && $0.startMs + $0.lengthMs <= end } } ?? []
        let steadyUs = Assertions.weightedP99(steady), duringUs = Assertions.weightedP99(during)
        notes.append("steady state (+0 ms…+\(DurationText.human(ms: steadyEnd ?? 0)), \(steady.count) windows): p99 "
                     + (steadyUs.map(usText) ?? "none"))
        if !spans.isEmpty {
            notes.append("while migrating (" + spans.map { "\($0.0.label) +\(DurationText.human(ms: $0.1))…+\(DurationText.human(ms: $0.2))" }
                .joined(separator: "; ") + ", \(during.count) windows): p99 " + (duringUs.map(usText) ?? "none"))
        }
        let result: VerdictResult
        if let steadyUs, let duringUs {
            let boundMs = max(factor * Double(steadyUs) / 1_000, Double(floorMs))
            notes.append("bound: max(\(number(factor)) × \(usText(steadyUs)), \(DurationText.human(ms: floorMs))) = \(usText(Int(boundMs * 1_000)))")
            result = .judge(Quantity(Double(duringUs) / 1_000, .ms), atMost: Quantity(boundMs, .ms),
                            why: "p99 \(usText(duringUs)) while migrating, over max(\(number(factor)) × steady-state \(usText(steadyUs)), \(DurationText.human(ms: floorMs))) = \(usText(Int(boundMs * 1_000)))")
        } else if let unmeasured {
            result = unmeasured
        } else if steadyUs == nil {
            result = .skipped(reason: "no acknowledged application request in the steady state before the first step: no baseline p99")
        } else {
            result = .skipped(reason: "no acknowledged application request while a migration ran: nothing to judge")
        }
        // A step that did not run leaves the judgement incomplete: only a failure already seen stands.
        if let unmeasured, result.status != .failed { return Verdict(id: id, title: title, result: unmeasured, notes: notes) }
        return Verdict(id: id, title: title, result: result, notes: notes)
    }

    /// When the steady state ended and the first step began, ms since load start: the first phase change after the
    /// steady-state phase; else the earliest operation, injection or condition; nil when none is known.
    static func steadyStateEndMs(_ obs: Observations) -> Int? {
        if let s = obs.events.firstIndex(where: { $0.kind == .phase && $0.detail == RunPhase.steadyState.rawValue }),
           let next = obs.events[(s + 1)...].first(where: { $0.kind == .phase }) {
            return next.atMs
        }
        return [obs.operations?.map(\.startedAtMs).min(), obs.injectedAtMs, obs.conditions.map(\.startedAtMs).min()]
            .compactMap { $0 }.min()
    }

    // MARK: - lock-wait, replica-lag

    /// The longest lock wait of an application session over every migration, against `bound`.
    static func lockWait(_ bound: Duration, _ steps: [MigrateStep], _ obs: Observations) -> Verdict {
        let title = "Longest lock wait of an application session while migrating ≤ \(DurationText.format(bound))"
        return maxFact("lock-wait", title, MigrationFacts.lockWaitMaxMs, bound, steps, obs, checkSamples: true) { s, r, ms in
            let f = r.outcome?.facts ?? [:]
            var line = "\(s.label): longest lock wait \(DurationText.human(ms: ms))"
                + (f[MigrationFacts.lockWaitSamples].map { " in \($0) samples" } ?? "")
            if let q = f[MigrationFacts.lockWaitQuery], !q.isEmpty { line += "; waiting: \(q)" }
            if let b = f[MigrationFacts.lockWaitBlocker], !b.isEmpty { line += "; blocked by: \(b)" }
            return line
        } why: { s, r, ms in
            let f = r.outcome?.facts ?? [:]
            var why = "an application session waited \(DurationText.human(ms: ms)) on a lock during \(s.label), longer than \(DurationText.format(bound))"
            if let q = f[MigrationFacts.lockWaitQuery], !q.isEmpty { why += "; waiting: \(q)" }
            if let b = f[MigrationFacts.lockWaitBlocker], !b.isEmpty { why += "; blocked by: \(b)" }
            return why
        }
    }

    /// The largest replay lag of any replica over every migration, against `bound`.
    static func replicaLag(_ bound: Duration, _ steps: [MigrateStep], _ obs: Observations) -> Verdict {
        let title = "Largest replica replay lag while migrating ≤ \(DurationText.format(bound))"
        func bytes(_ r: OperationResult) -> String {
            r.outcome?.facts[MigrationFacts.replicaLagMaxBytes].map { " (\($0) bytes)" } ?? ""
        }
        return maxFact("replica-lag", title, MigrationFacts.replicaLagMaxMs, bound, steps, obs, checkSamples: false) { s, r, ms in
            "\(s.label): largest replay lag \(DurationText.human(ms: ms))" + bytes(r)
        } why: { s, r, ms in
            "a replica lagged \(DurationText.human(ms: ms))\(bytes(r)) behind during \(s.label), more than \(DurationText.format(bound))"
        }
    }

    /// The largest value of the integer fact `key` over the migrations, against `bound`: failed when one that
    /// reported it is over the bound; else what keeps one unmeasured (it did not succeed, the fact is missing or
    /// malformed); else passed.
    static func maxFact(_ id: String, _ title: String, _ key: String, _ bound: Duration, _ steps: [MigrateStep],
                        _ obs: Observations, checkSamples: Bool,
                        note: (MigrateStep, OperationResult, Int) -> String,
                        why: (MigrateStep, OperationResult, Int) -> String) -> Verdict {
        var unmeasured: VerdictResult?
        var seen: [(MigrateStep, OperationResult, Int)] = []
        var notes: [String] = []
        for s in steps {
            switch ran(s, obs) {
            case .failure(let u):
                unmeasured = unmeasured ?? u.result
                notes.append("\(s.label): not measured")
            case .success(let r):
                let facts = r.outcome?.facts ?? [:]
                if checkSamples, facts[MigrationFacts.lockWaitSamples] == "0" {
                    unmeasured = unmeasured ?? .skipped(reason: "not measured: no lock samples were taken during \(s.label)")
                    notes.append("\(s.label): no lock samples taken")
                    continue
                }
                switch fact(key, s, r) {
                case .failure(let u): unmeasured = unmeasured ?? u.result; notes.append("\(s.label): \(key) not reported")
                case .success(let v): seen.append((s, r, v)); notes.append(note(s, r, v))
                }
            }
        }
        let target = Quantity.ms(bound.milliseconds)
        guard let worst = seen.max(by: { $0.2 < $1.2 }) else {
            return Verdict(id: id, title: title, result: unmeasured ?? .error("no migration to measure"), notes: notes)
        }
        let result = VerdictResult.judge(.ms(worst.2), atMost: target, why: why(worst.0, worst.1, worst.2))
        if let unmeasured, result.status != .failed { return Verdict(id: id, title: title, result: unmeasured, notes: notes) }
        return Verdict(id: id, title: title, result: result, notes: notes)
    }

    // MARK: - schema-at-revision

    /// After the last migration the database is at its revision and its schema is the one a fresh migration to it
    /// builds. Measured: the problems found (target 0).
    static func schemaAtRevision(_ steps: [MigrateStep], _ obs: Observations) -> Verdict {
        let last = steps[steps.count - 1]
        let id = "schema-at-revision"
        let title = "Schema at revision \(last.revision), as a fresh migration to it builds it"
        let r: OperationResult
        switch ran(last, obs) {
        case .failure(let u): return Verdict(id: id, title: title, result: u.result)
        case .success(let x): r = x
        }
        let facts = r.outcome?.facts ?? [:]
        let revision = facts[MigrationFacts.revision], matches = facts[MigrationFacts.schemaMatches]
        var notes = ["revision after \(last.label): \(revision ?? "not reported")",
                     "schema against a scratch database migrated from scratch: \(matches ?? "not reported")"]
        if let h = facts[MigrationFacts.history] { notes.append("history: \(h)") }
        var problems: [String] = []
        if let revision, revision != last.revision { problems.append("the database is at revision \(revision), not \(last.revision)") }
        if let matches, matches != "yes" {
            let detail = matches.hasPrefix("no:") ? String(matches.dropFirst(3)).trimmingWhitespace() : matches
            problems.append("its schema differs from a fresh migration to \(revision ?? last.revision): \(detail)")
        }
        if !problems.isEmpty {
            return Verdict(id: id, title: title, result: .failed(measured: .count(problems.count), target: .count(0),
                           why: problems.joined(separator: "; ")), notes: notes)
        }
        let missing = [revision == nil ? MigrationFacts.revision : nil, matches == nil ? MigrationFacts.schemaMatches : nil].compactMap { $0 }
        if !missing.isEmpty {
            return Verdict(id: id, title: title, result: .skipped(
                reason: "not measured: \(last.label) reported no " + missing.joined(separator: " and ")), notes: notes)
        }
        return Verdict(id: id, title: title, result: .passed(measured: .count(0), target: .count(0)), notes: notes)
    }

    // MARK: - Steps and facts

    struct Unmeasured: Error { var result: VerdictResult }

    /// The migration's result when it succeeded; else why its facts are not there (skipped, or the run's abort), the
    /// way `OperationChecks` says it for the step's own verdict. A background migration's is its start step's and its
    /// finish step's together: from the start's start to the finish's end, with the finish's outcome.
    static func ran(_ s: MigrateStep, _ obs: Observations) -> Result<OperationResult, Unmeasured> {
        switch ran(step: s.index, s, obs) {
        case .failure(let u): return .failure(u)
        case .success(let start):
            guard s.background else { return .success(start) }
            guard let f = s.finish else {
                return .failure(Unmeasured(result: .error("\(s.label) is never finished: no FinishMigration() after it")))
            }
            return ran(step: f, s, obs).map { finish in
                var r = finish
                r.step = start.step
                r.operation = start.operation
                r.startedAtMs = start.startedAtMs
                return r
            }
        }
    }

    /// One step's result when it succeeded; else why not, for the migration `s`.
    static func ran(step: Int, _ s: MigrateStep, _ obs: Observations) -> Result<OperationResult, Unmeasured> {
        guard let r = obs.operations?.first(where: { $0.step == step }) else {
            return .failure(Unmeasured(result: OperationChecks.notRun(step, obs)))
        }
        // A background migration names the step of the two that failed.
        let who = s.background ? "\(s.label): step \(step + 1) (\(r.operation))" : s.label
        switch r.status {
        case .succeeded: return .success(r)
        case .failed:
            return .failure(Unmeasured(result: .skipped(
                reason: "not measured: \(who) failed (its operation verdict fails): \(r.error ?? "no reason given")")))
        case .unsupported:
            return .failure(Unmeasured(result: .skipped(reason: "unsupported by this environment: \(r.error ?? "no reason given")")))
        case .cancelled:
            return .failure(Unmeasured(result: Assertions.aborted(obs) ?? .skipped(reason: "not measured: cancelled while it ran")))
        }
    }

    /// A fact in whole milliseconds (a fraction rounds up); skipped when missing, an error when it is no number.
    static func fact(_ key: String, _ s: MigrateStep, _ r: OperationResult) -> Result<Int, Unmeasured> {
        guard let text = r.outcome?.facts[key] else {
            return .failure(Unmeasured(result: .skipped(reason: "not measured: \(s.label) reported no \(key)")))
        }
        guard let v = Double(text.trimmingWhitespace()), v.isFinite, v >= 0 else {
            return .failure(Unmeasured(result: .error("\(s.label) reported \(key) '\(text)', not a number of milliseconds")))
        }
        return .success(Int(v.rounded(.up)))
    }

    /// "2.4 ms" below 10 ms, else the usual human form.
    static func usText(_ us: Int) -> String {
        us < 10_000 ? "\(us / 1_000).\((us % 1_000) / 100) ms" : DurationText.human(ms: (us + 500) / 1_000)
    }

    /// "3", "2.5".
    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e9 ? "\(Int(v))" : "\(v)"
    }
}
