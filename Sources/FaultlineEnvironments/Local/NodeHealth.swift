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
}
