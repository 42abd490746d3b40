import Faultline
import Foundation

extension LocalRunnerEnvironment {
    /// The alerts firing now, from Alertmanager's `GET /api/v2/alerts` (inhibited ones included, as
    /// `suppressed`); when Alertmanager does not answer, from Prometheus' `GET /api/v1/alerts` (the
    /// `ALERTS` series: firing and pending). Throws when the environment runs without alerting or
    /// neither answers.
    public func activeAlerts() async throws -> [ActiveAlert] {
        try local.activeAlerts()
    }
}

extension LocalEnvironment {
    /// See `LocalRunnerEnvironment.activeAlerts()`.
    public func activeAlerts(timeout: Duration = .seconds(1)) throws -> [ActiveAlert] {
        guard config.observabilityEnabled else {
            throw EnvironmentError.badConfig("this environment runs without Prometheus and Alertmanager (alerts '\(config.observability)'); recreate it with 'faultline env down' then 'faultline env up --alerts ci'")
        }
        let amURL = config.alertmanagerURL + "/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true"
        var failures: [String] = []
        do {
            let r = try HTTP.get(amURL, timeout: timeout)
            if r.status == 200 { return try Self.decodeAlertmanagerAlerts(Data(r.body.utf8)) }
            failures.append("Alertmanager answered HTTP \(r.status)")
        } catch {
            failures.append("Alertmanager: \(error)")
        }
        do {
            let r = try HTTP.get(config.prometheusURL + "/api/v1/alerts", timeout: timeout)
            if r.status == 200 { return try Self.decodePrometheusAlerts(Data(r.body.utf8)) }
            failures.append("Prometheus answered HTTP \(r.status)")
        } catch {
            failures.append("Prometheus: \(error)")
        }
        throw EnvironmentError.unhealthy("cannot read alerts: " + failures.joined(separator: "; "))
    }

    /// Parses Alertmanager's `/api/v2/alerts` body. Pure.
    public static func decodeAlertmanagerAlerts(_ body: Data) throws -> [ActiveAlert] {
        try JSONDecoder().decode([AlertmanagerAlert].self, from: body).compactMap(\.activeAlert)
    }

    /// Parses Prometheus' `/api/v1/alerts` body. Pure.
    public static func decodePrometheusAlerts(_ body: Data) throws -> [ActiveAlert] {
        let r = try JSONDecoder().decode(PrometheusAlertsResponse.self, from: body)
        guard r.status == "success" else { throw EnvironmentError.unhealthy("Prometheus /api/v1/alerts status \(r.status)") }
        return r.activeAlerts
    }
}
