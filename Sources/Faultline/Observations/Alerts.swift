/// One alert as the environment's alerting lists it right now (Alertmanager's API, or Prometheus').
public struct ActiveAlert: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        /// Firing and delivered (Alertmanager "active", Prometheus "firing").
        case firing
        /// Firing, but inhibited or silenced in Alertmanager (a critical lag alert inhibits the warning).
        case suppressed
        /// Alertmanager received it but has not processed it yet; firing all the same.
        case unprocessed
        /// Prometheus only: the expression holds, `for:` has not elapsed yet. Not firing.
        case pending
    }

    /// `labels.alertname`.
    public var name: String
    public var labels: [String: String]
    public var state: State
    /// When it started firing (or became pending), RFC 3339 as the source wrote it.
    public var since: String?

    public init(name: String, labels: [String: String] = [:], state: State = .firing, since: String? = nil) {
        self.name = name
        self.labels = labels
        self.state = state
        self.since = since
    }

    /// Firing, whether or not Alertmanager would notify about it.
    public var isFiring: Bool { state != .pending }

    /// "FaultlinePrimaryDown (critical) firing" / "FaultlineReplicationLagWarning node=fl-n2 suppressed".
    public var summary: String {
        var s = name
        if let n = labels["node"] { s += " node=\(n)" }
        return s + " " + state.rawValue
    }

    /// One line for a verdict: every alert listed, or "no alerts".
    public static func summary(_ alerts: [ActiveAlert]) -> String {
        alerts.isEmpty ? "no alerts" : alerts.map(\.summary).sorted().joined(separator: ", ")
    }
}

/// The alerts of environments/shared/observability/alerts.rules.yml.tmpl, by name.
public enum AlertName {
    public static let poolUtilizationHigh = "FaultlinePoolUtilizationHigh"
    public static let replicationLagWarning = "FaultlineReplicationLagWarning"
    public static let replicationLagCritical = "FaultlineReplicationLagCritical"
    public static let longRunningQuery = "FaultlineLongRunningQuery"
    public static let diskUsageHigh = "FaultlineDiskUsageHigh"
    public static let primaryDown = "FaultlinePrimaryDown"
    public static let noLeader = "FaultlineNoLeader"
    public static let splitBrain = "FaultlineSplitBrain"
    public static let walArchivingFailing = "FaultlineWalArchivingFailing"
    public static let targetDown = "FaultlineTargetDown"
}

/// One element of Alertmanager's `GET /api/v2/alerts` (decode the body as `[AlertmanagerAlert]`).
public struct AlertmanagerAlert: Decodable, Sendable, Equatable {
    public struct Status: Decodable, Sendable, Equatable {
        /// "active", "suppressed" or "unprocessed".
        public var state: String
    }
    public var labels: [String: String]
    public var status: Status
    public var startsAt: String?

    /// nil when it has no alertname or an unknown state.
    public var activeAlert: ActiveAlert? {
        guard let name = labels["alertname"] else { return nil }
        let state: ActiveAlert.State
        switch status.state {
        case "active": state = .firing
        case "suppressed": state = .suppressed
        case "unprocessed": state = .unprocessed
        default: return nil
        }
        return ActiveAlert(name: name, labels: labels, state: state, since: startsAt)
    }
}

/// Prometheus' `GET /api/v1/alerts` (the same set as the `ALERTS` series, pending ones included).
public struct PrometheusAlertsResponse: Decodable, Sendable, Equatable {
    public struct Alert: Decodable, Sendable, Equatable {
        public var labels: [String: String]
        /// "firing" or "pending" ("inactive" is never listed).
        public var state: String
        public var activeAt: String?
    }
    public struct DataField: Decodable, Sendable, Equatable { public var alerts: [Alert] }
    public var status: String
    public var data: DataField

    public var activeAlerts: [ActiveAlert] {
        data.alerts.compactMap { a in
            guard let name = a.labels["alertname"] else { return nil }
            let state: ActiveAlert.State
            switch a.state {
            case "firing": state = .firing
            case "pending": state = .pending
            default: return nil
            }
            return ActiveAlert(name: name, labels: a.labels, state: state, since: a.activeAt)
        }
    }
}

extension Condition {
    /// Whether the condition is read from the environment's alerts rather than from its topology.
    public var readsAlerts: Bool {
        switch self {
        case .alertFiring, .alertResolved: true
        default: false
        }
    }

    /// Whether an alert condition holds for the alerts listed now (false for the other conditions).
    /// Firing includes Alertmanager's suppressed (inhibited) state; a pending alert is not firing.
    public func holds(alerts: [ActiveAlert]) -> Bool {
        switch self {
        case .alertFiring(let name): alerts.contains { $0.name == name && $0.isFiring }
        case .alertResolved(let name): !alerts.contains { $0.name == name && $0.isFiring }
        default: false
        }
    }

    /// What was last seen, for a verdict: the condition's own alert first, then the others.
    public static func alertsSeen(_ alerts: [ActiveAlert], for condition: Condition) -> String {
        guard case .alertFiring(let name) = condition else {
            if case .alertResolved(let name) = condition {
                let mine = alerts.filter { $0.name == name && $0.isFiring }
                return mine.isEmpty ? "not firing; alerts: \(ActiveAlert.summary(alerts))"
                    : "still firing: \(ActiveAlert.summary(mine))"
            }
            return ActiveAlert.summary(alerts)
        }
        if let pending = alerts.first(where: { $0.name == name && $0.state == .pending }) {
            return "\(name) pending since \(pending.since ?? "?") (for: not elapsed); alerts: \(ActiveAlert.summary(alerts))"
        }
        return "\(name) not listed; alerts: \(ActiveAlert.summary(alerts))"
    }
}

extension Scenario {
    /// The scenario without its alert expectations (`alertFiring`/`alertResolved` steps), for an
    /// environment that runs without alerting.
    public var withoutAlertSteps: Scenario {
        var s = self
        s.steps = steps.filter { step in
            switch step {
            case .await(let c, _), .expect(let c, _): !c.readsAlerts
            default: true
            }
        }
        return s
    }
}
