import Faultline
import Foundation
import Testing
@testable import FaultlineLoad
#if canImport(Glibc)
import Glibc
#endif

@Suite struct LoadMetricsTests {
    /// The value of the exposition line with exactly this series (name + labels).
    func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    @Test func countsEveryOutcomeAndBucketsAcknowledgedLatency() {
        let m = LoadMetrics(workloads: ["ledger-writes", "replica-reads"])
        m.observe(workload: 0, outcome: .ok, latencyNs: 1_500_000)       // 1.5 ms -> le 0.002
        m.observe(workload: 0, outcome: .ok, latencyNs: 300_000_000)     // 300 ms -> le 0.5
        m.observe(workload: 0, outcome: .ok, latencyNs: 60_000_000_000)  // 60 s -> +Inf only
        m.observe(workload: 0, outcome: .connectionRefused, latencyNs: nil)
        m.observe(workload: 1, outcome: .readOnly, latencyNs: nil)
        m.observe(workload: 7, outcome: .ok, latencyNs: 1)               // unknown workload: ignored
        let t = m.exposition()
        let w = "workload=\"ledger-writes\""
        #expect(value(t, "faultline_load_requests_total{\(w),outcome=\"ok\"}") == 3)
        #expect(value(t, "faultline_load_requests_total{\(w),outcome=\"connection_refused\"}") == 1)
        #expect(value(t, "faultline_load_requests_total{\(w),outcome=\"indeterminate\"}") == 0, "every outcome exported at 0")
        #expect(value(t, "faultline_load_requests_total{workload=\"replica-reads\",outcome=\"read_only\"}") == 1)
        let b = "faultline_load_request_duration_seconds_bucket{\(w),outcome=\"ok\""
        #expect(value(t, b + ",le=\"0.001\"}") == 0)
        #expect(value(t, b + ",le=\"0.002\"}") == 1)
        #expect(value(t, b + ",le=\"0.2\"}") == 1)
        #expect(value(t, b + ",le=\"0.5\"}") == 2, "cumulative")
        #expect(value(t, b + ",le=\"10\"}") == 2)
        #expect(value(t, b + ",le=\"+Inf\"}") == 3)
        #expect(value(t, "faultline_load_request_duration_seconds_count{\(w),outcome=\"ok\"}") == 3)
        let sum = value(t, "faultline_load_request_duration_seconds_sum{\(w),outcome=\"ok\"}") ?? 0
        #expect(abs(sum - 60.3015) < 1e-9)
        #expect(t.contains("# TYPE faultline_load_request_duration_seconds histogram"))
        #expect(t.contains("# TYPE faultline_load_requests_total counter"))
        #expect(value(t, "faultline_load_request_duration_seconds_count{workload=\"replica-reads\",outcome=\"ok\"}") == 0)
    }

    @Test func labelValuesAreEscaped() {
        #expect(LoadMetrics.escape("a\"b\\c\nd") == "a\\\"b\\\\c\\nd")
    }

    /// GET over a plain socket (no URLSession on the test machine's loopback needed).
    func get(_ address: String, _ path: String) throws -> String {
        let parts = address.split(separator: ":")
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(parts[1])!.bigEndian
        inet_pton(AF_INET, String(parts[0]), &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { throw CocoaError(.fileReadUnknown) }
        let req = Array("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        _ = req.withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, 0) }
        var out = [UInt8](), buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func serverServesMetricsAndStops() throws {
        let m = LoadMetrics(workloads: ["ledger-writes"])
        m.observe(workload: 0, outcome: .ok, latencyNs: 2_000_000)
        let server = try MetricsServer(listen: "127.0.0.1:0", metrics: m)
        let r = try get(server.address, "/metrics")
        #expect(r.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(r.contains("Content-Type: text/plain; version=0.0.4"))
        #expect(r.contains("faultline_load_requests_total{workload=\"ledger-writes\",outcome=\"ok\"} 1\n"))
        #expect(try get(server.address, "/other").hasPrefix("HTTP/1.1 404"))
        server.stop()
        #expect(throws: (any Error).self) { try get(server.address, "/metrics") }
        // The port is free again: a new server can take it.
        let again = try MetricsServer(listen: server.address, metrics: m)
        again.stop()
    }

    @Test func badAddressesAreRefused() {
        #expect(throws: MetricsServer.Failure.self) { try MetricsServer(listen: "localhost:9464", metrics: LoadMetrics(workloads: [])) }
        var c = LoadConfig(workloads: [WorkloadConfig(kind: .ledger, conninfo: "host=x")])
        c.metricsListen = "10.77.0.254"
        #expect(throws: LoadConfigError.self) { try c.validate() }
        c.metricsListen = "10.77.0.254:9464"
        #expect(throws: Never.self) { try c.validate() }
    }
}
