import Foundation

extension LocalEnvironment {
    /// The nodes whose own Patroni does not report a running PostgreSQL (`GET /health` is not 200, or no answer).
    ///
    /// Patroni's `/cluster` answer comes from the DCS: a member SIGKILLed moments ago still shows there as
    /// running until its member key expires (ttl), and a leader whose Patroni was just restarted keeps its
    /// leader key while its PostgreSQL is still recovering. The node's own REST API does not lag.
    public func nodesNotServing() -> [String] {
        config.nodeNames.filter { n in
            guard let r = try? HTTP.get(config.restURL(n) + "/health", timeout: .milliseconds(800)) else { return true }
            return r.status != 200
        }
    }

    /// `heal`, then wait until every node's own Patroni reports PostgreSQL running, and the cluster view is
    /// healthy again (replicas reconnect to a primary that was restarting). Without the second wait a heal right
    /// after a SIGKILL can pass on the DCS's stale view while a PostgreSQL is still down.
    @discardableResult
    public func healServing(timeout: Duration = .seconds(90)) async throws -> ClusterStatus {
        let deadline = ContinuousClock.now + timeout
        _ = try await heal(timeout: timeout)
        func left() -> Duration { max(ContinuousClock.now.duration(to: deadline), .seconds(5)) }
        do {
            try await poll(timeout: left(), what: "PostgreSQL running on every node") { nodesNotServing().isEmpty ? () : nil }
        } catch {
            throw EnvironmentError.unhealthy("PostgreSQL not running on \(nodesNotServing().joined(separator: ", ")) after the heal")
        }
        return try await waitHealthy(timeout: left())
    }
}
