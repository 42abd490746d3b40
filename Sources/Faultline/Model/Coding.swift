// Flat, readable JSON for the model's enums and durations (report.json is read by people and scripts):
// enums become {"kind": "...", ...fields}, durations become whole milliseconds in "...Ms" fields.
// Every form shares one set of optional fields, `FlatFields` (FaultCoding.swift).

extension Condition {
    public init(from decoder: any Decoder) throws {
        let f = try FlatFields(from: decoder)
        switch (f.kind, f.members, f.sync) {
        case ("new-primary", _, _): self = .newPrimary
        case ("primary-recovered", _, _): self = .primaryRecovered
        case ("cluster-healthy", .some(let m), .some(let s)): self = .clusterHealthy(members: m, sync: s)
        case ("alert-firing", _, _) where f.alert != nil: self = .alertFiring(f.alert!)
        case ("alert-resolved", _, _) where f.alert != nil: self = .alertResolved(f.alert!)
        default: throw f.bad(decoder)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var f = FlatFields(slug)
        if case .clusterHealthy(let m, let s) = self { f.members = m; f.sync = s }
        if case .alertFiring(let a) = self { f.alert = a }
        if case .alertResolved(let a) = self { f.alert = a }
        try f.encode(to: encoder)
    }
}

extension Workload {
    public init(from decoder: any Decoder) throws {
        let f = try FlatFields(from: decoder)
        switch (f.kind, f.rate) {
        // `connect` is absent in documents written before it existed: persistent connections.
        case ("ledger-writes", .some(let r)): self = .ledgerWrites(rate: r, connect: f.connect ?? .persistent)
        case ("replica-reads", .some(let r)): self = .replicaReads(rate: r, connect: f.connect ?? .persistent)
        case ("orders", .some(let r)):
            guard let v = AppVersion(rawValue: try f.need(f.version, decoder)) else { throw f.bad(decoder) }
            self = .orders(rate: r, version: v, connect: f.connect ?? .persistent)
        default: throw f.bad(decoder)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var f = FlatFields(name)
        f.rate = rate
        f.version = appVersion?.rawValue
        if connect != .persistent { f.connect = connect }
        try f.encode(to: encoder)
    }
}

extension Step {
    public init(from decoder: any Decoder) throws {
        let f = try FlatFields(from: decoder)
        switch (f.kind, f.fault, f.condition, f.withinMs) {
        case ("operate", _, _, _): self = .operation(try f.need(f.operation, decoder), within: f.withinMs.map { .milliseconds($0) })
        case ("inject", .some(let x), _, _): self = .inject(x)
        case ("await", _, .some(let c), .some(let w)): self = .await(c, within: .milliseconds(w))
        case ("heal", _, _, _): self = .heal
        case ("hold", _, _, .some(let w)): self = .hold(.milliseconds(w))
        case ("expect", _, .some(let c), let w): self = .expect(c, within: w.map { .milliseconds($0) })
        default: throw f.bad(decoder)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var f: FlatFields
        switch self {
        case .inject(let x): f = FlatFields("inject"); f.fault = x
        case .await(let c, let w): f = FlatFields("await"); f.condition = c; f.withinMs = w.milliseconds
        case .heal: f = FlatFields("heal")
        case .hold(let d): f = FlatFields("hold"); f.withinMs = d.milliseconds
        case .expect(let c, let w): f = FlatFields("expect"); f.condition = c; f.withinMs = w?.milliseconds
        case .operation(let o, let w): f = FlatFields("operate"); f.operation = o; f.withinMs = w?.milliseconds
        }
        try f.encode(to: encoder)
    }
}

extension Targets {
    enum CodingKeys: String, CodingKey {
        case rtoMs, lostWrites, settleMs, sustainMs, errorBudgetDuring, errorBudgetAfter, p99DuringMs, p99AfterMs, observeAfterHealMs
        case writesDuringFault, writesBackAfterHealMs, rtoJudges, migration, rpoMs, writeErrors, longestWriteWaitMs
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            rto: try c.decodeIfPresent(Int.self, forKey: .rtoMs).map { .milliseconds($0) },
            lostWrites: try c.decode(Int.self, forKey: .lostWrites),
            settle: .milliseconds(try c.decode(Int.self, forKey: .settleMs)),
            sustain: .milliseconds(try c.decode(Int.self, forKey: .sustainMs)),
            errorBudgetDuring: try c.decodeIfPresent(Double.self, forKey: .errorBudgetDuring),
            errorBudgetAfter: try c.decodeIfPresent(Double.self, forKey: .errorBudgetAfter),
            p99During: try c.decodeIfPresent(Int.self, forKey: .p99DuringMs).map { .milliseconds($0) },
            p99After: try c.decodeIfPresent(Int.self, forKey: .p99AfterMs).map { .milliseconds($0) },
            // Absent in reports written before the observation window existed: they had none.
            observeAfterHeal: .milliseconds(try c.decodeIfPresent(Int.self, forKey: .observeAfterHealMs) ?? 0),
            writesDuringFault: try c.decodeIfPresent(WritesDuringFault.self, forKey: .writesDuringFault),
            writesBackAfterHeal: try c.decodeIfPresent(Int.self, forKey: .writesBackAfterHealMs).map { .milliseconds($0) },
            rpo: try c.decodeIfPresent(Int.self, forKey: .rpoMs).map { .milliseconds($0) })
        // Absent in reports written before the service probe: the default (they fall back to the application instant).
        rtoJudges = try c.decodeIfPresent(RTOInstant.self, forKey: .rtoJudges) ?? .serviceRestored
        // Absent in reports written before migrations were judged, and in scenarios without one: not checked.
        migration = try c.decodeIfPresent(MigrationTargets.self, forKey: .migration)
        // Absent: not checked (every scenario but a paused switchover's, and reports from before them).
        writeErrors = try c.decodeIfPresent(Int.self, forKey: .writeErrors)
        longestWriteWait = try c.decodeIfPresent(Int.self, forKey: .longestWriteWaitMs).map { .milliseconds($0) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(rto?.milliseconds, forKey: .rtoMs)
        try c.encode(lostWrites, forKey: .lostWrites)
        try c.encode(settle.milliseconds, forKey: .settleMs)
        try c.encode(sustain.milliseconds, forKey: .sustainMs)
        try c.encodeIfPresent(errorBudgetDuring, forKey: .errorBudgetDuring)
        try c.encodeIfPresent(errorBudgetAfter, forKey: .errorBudgetAfter)
        try c.encodeIfPresent(p99During?.milliseconds, forKey: .p99DuringMs)
        try c.encodeIfPresent(p99After?.milliseconds, forKey: .p99AfterMs)
        try c.encode(observeAfterHeal.milliseconds, forKey: .observeAfterHealMs)
        try c.encodeIfPresent(writesDuringFault, forKey: .writesDuringFault)
        try c.encodeIfPresent(writesBackAfterHeal?.milliseconds, forKey: .writesBackAfterHealMs)
        try c.encode(rtoJudges, forKey: .rtoJudges)
        try c.encodeIfPresent(migration, forKey: .migration)
        try c.encodeIfPresent(rpo?.milliseconds, forKey: .rpoMs)
        try c.encodeIfPresent(writeErrors, forKey: .writeErrors)
        try c.encodeIfPresent(longestWriteWait?.milliseconds, forKey: .longestWriteWaitMs)
    }
}

extension Scenario {
    enum CodingKeys: String, CodingKey {
        case name, summary, tags, targets, workloads, steadyStateMs, steps, splitBrain, application, safety, writesVia
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name),
            summary: try c.decode(String.self, forKey: .summary),
            tags: try c.decode([Tag].self, forKey: .tags),
            targets: try c.decode(Targets.self, forKey: .targets),
            workloads: try c.decode([Workload].self, forKey: .workloads),
            steadyState: .milliseconds(try c.decode(Int.self, forKey: .steadyStateMs)),
            steps: try c.decode([Step].self, forKey: .steps))
        // Absent: forbidden (reports from before the expectation existed, and every ordinary scenario).
        splitBrain = try c.decodeIfPresent(SplitBrainExpectation.self, forKey: .splitBrain) ?? .forbidden
        application = try c.decodeIfPresent(ApplicationSpec.self, forKey: .application)
        // Absent: the standard steady-state hypothesis and no abort condition (and every report from before them).
        safety = try c.decodeIfPresent(SafetyLimits.self, forKey: .safety)
        // Absent: the read-write endpoint (every scenario before the pooler route existed).
        writesVia = try c.decodeIfPresent(WriteRoute.self, forKey: .writesVia)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(summary, forKey: .summary)
        try c.encode(tags, forKey: .tags)
        try c.encode(targets, forKey: .targets)
        try c.encode(workloads, forKey: .workloads)
        try c.encode(steadyState.milliseconds, forKey: .steadyStateMs)
        try c.encode(steps, forKey: .steps)
        if splitBrain != .forbidden { try c.encode(splitBrain, forKey: .splitBrain) }
        try c.encodeIfPresent(application, forKey: .application)
        try c.encodeIfPresent(safety, forKey: .safety)
        try c.encodeIfPresent(writesVia, forKey: .writesVia)
    }
}

extension SteadyStateHypothesis {
    enum CodingKeys: String, CodingKey { case errorRate, p99Ms, healthy }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(errorRate: try c.decodeIfPresent(Double.self, forKey: .errorRate),
                  p99: try c.decodeIfPresent(Int.self, forKey: .p99Ms).map { .milliseconds($0) },
                  healthy: try c.decodeIfPresent(Bool.self, forKey: .healthy) ?? true)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(errorRate, forKey: .errorRate)
        try c.encodeIfPresent(p99?.milliseconds, forKey: .p99Ms)
        try c.encode(healthy, forKey: .healthy)
    }
}

/// An abort condition is written as the text `--abort` takes (`"error-rate>50%/60s"`) and read back with its parser.
extension AbortCondition {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        do { self = try AbortCondition.parse(text) } catch {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }
}
