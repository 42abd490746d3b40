import Faultline
import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The load generator's own Prometheus metrics, as the application sees its database:
///
/// - `faultline_load_requests_total{workload,outcome}`: every request, by outcome (`ok`, `connection_refused`, ...);
///   every outcome of every workload is exported from the start, at 0, so ratios have data.
/// - `faultline_load_request_duration_seconds{workload,outcome="ok"}`: latency histogram of acknowledged
///   requests (open loop: from the intended start), the same latency the run's timeline and p99 use.
///
/// Thread-safe; `observe` is one short critical section per request.
public final class LoadMetrics: Sendable {
    /// Upper bounds of the histogram buckets, seconds (+Inf is implied).
    public static let bucketBounds: [Double] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10]

    public let workloads: [String]
    private let state: Mutex<State>

    struct State: Sendable {
        var counts: [[Int]]
        /// Per workload, per bucket (last = +Inf), not cumulative.
        var buckets: [[Int]]
        var sumSeconds: [Double]
    }

    public init(workloads: [String]) {
        self.workloads = workloads
        let n = workloads.count
        state = Mutex(State(counts: Array(repeating: Array(repeating: 0, count: Outcome.allCases.count), count: n),
                            buckets: Array(repeating: Array(repeating: 0, count: Self.bucketBounds.count + 1), count: n),
                            sumSeconds: Array(repeating: 0, count: n)))
    }

    /// Records one finished request of workload `index` (its position in `workloads`).
    public func observe(workload index: Int, outcome: Outcome, latencyNs: Int64?) {
        guard workloads.indices.contains(index), let o = Outcome.allCases.firstIndex(of: outcome) else { return }
        let seconds = latencyNs.map { Double(max(0, $0)) / 1e9 }
        let bucket = seconds.map { s in Self.bucketBounds.firstIndex { s <= $0 } ?? Self.bucketBounds.count }
        state.withLock { s in
            s.counts[index][o] += 1
            if let bucket, let seconds, outcome == .ok {
                s.buckets[index][bucket] += 1
                s.sumSeconds[index] += seconds
            }
        }
    }

    /// The Prometheus text exposition format (version 0.0.4).
    public func exposition() -> String {
        let s = state.withLock { $0 }
        var out = """
            # HELP faultline_load_requests_total Requests of the Faultline load generator, by workload and outcome.
            # TYPE faultline_load_requests_total counter

            """
        for (w, name) in workloads.enumerated() {
            for (o, outcome) in Outcome.allCases.enumerated() {
                out += "faultline_load_requests_total{workload=\"\(Self.escape(name))\",outcome=\"\(outcome.rawValue)\"} \(s.counts[w][o])\n"
            }
        }
        out += """
            # HELP faultline_load_request_duration_seconds Latency of acknowledged requests (open loop: from the intended start).
            # TYPE faultline_load_request_duration_seconds histogram

            """
        for (w, name) in workloads.enumerated() {
            let labels = "workload=\"\(Self.escape(name))\",outcome=\"ok\""
            var cumulative = 0
            for (b, bound) in Self.bucketBounds.enumerated() {
                cumulative += s.buckets[w][b]
                out += "faultline_load_request_duration_seconds_bucket{\(labels),le=\"\(Self.format(bound))\"} \(cumulative)\n"
            }
            cumulative += s.buckets[w][Self.bucketBounds.count]
            out += "faultline_load_request_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(cumulative)\n"
            out += "faultline_load_request_duration_seconds_sum{\(labels)} \(Self.format(s.sumSeconds[w]))\n"
            out += "faultline_load_request_duration_seconds_count{\(labels)} \(cumulative)\n"
        }
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}

/// A minimal HTTP/1.x server for `GET /metrics`, on its own thread, one connection at a time (Prometheus
/// scrapes once a second). Anything else gets 404. Stops within ~200 ms of `stop()`.
public final class MetricsServer: Sendable {
    public let address: String
    private let fd: Int32
    private let stopped = Atomic<Bool>(false)
    private let finished = Mutex<Bool>(false)

    public enum Failure: Error, CustomStringConvertible {
        case badAddress(String), bind(String, Int32)
        public var description: String {
            switch self {
            case .badAddress(let a): "metrics address '\(a)' is not IPv4 HOST:PORT"
            case .bind(let a, let e): "cannot listen on \(a): \(String(cString: strerror(e)))"
            }
        }
    }

    /// Parses "10.77.0.254:9464".
    static func parse(_ address: String) -> sockaddr_in? {
        let parts = address.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else { return nil }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, String(parts[0]), &addr.sin_addr) == 1 else { return nil }
        return addr
    }

    /// Listens on `address` (IPv4 HOST:PORT; port 0 picks a free one) and serves `metrics` until `stop()`.
    public init(listen address: String, metrics: LoadMetrics) throws(Failure) {
        guard var addr = Self.parse(address) else { throw .badAddress(address) }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .bind(address, errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0, listen(fd, 16) == 0 else {
            let e = errno
            close(fd)
            throw .bind(address, e)
        }
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        self.fd = fd
        self.address = "\(address.split(separator: ":")[0]):\(UInt16(bigEndian: bound.sin_port))"
        let thread = Thread { [self] in self.serve(metrics) }
        thread.name = "faultline-load-metrics"
        thread.start()
    }

    /// Stops serving and closes the socket; returns once the serving thread has let go of it.
    public func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        let deadline = ContinuousClock.now + .seconds(2)
        while !finished.withLock({ $0 }), ContinuousClock.now < deadline { usleep(10_000) }
    }

    private func serve(_ metrics: LoadMetrics) {
        defer {
            close(fd)
            finished.withLock { $0 = true }
        }
        while !stopped.load(ordering: .relaxed) {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 200) > 0 else { continue }
            let c = accept(fd, nil, nil)
            guard c >= 0 else { continue }
            handle(c, metrics)
            close(c)
        }
    }

    private func handle(_ c: Int32, _ metrics: LoadMetrics) {
        var tv = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var request = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        while request.count < 16384 {
            let n = buf.withUnsafeMutableBytes { recv(c, $0.baseAddress!, $0.count, 0) }
            guard n > 0 else { break }
            request += buf[0..<n]
            if String(decoding: request, as: UTF8.self).contains("\r\n\r\n") { break }
        }
        let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self).split(separator: " ")
        let (status, body): (String, String)
        if line.count >= 2, line[0] == "GET", line[1] == "/metrics" || line[1].hasPrefix("/metrics?") {
            (status, body) = ("200 OK", metrics.exposition())
        } else {
            (status, body) = ("404 Not Found", "not found; try /metrics\n")
        }
        let response = "HTTP/1.1 \(status)\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
        var bytes = Array(response.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeMutableBytes { send(c, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return }
            sent += n
        }
    }
}

extension LoadGenerator {
    /// Metrics and their server for a run, when `config.metricsListen` is set. A server that cannot
    /// listen is logged and skipped: the load runs without it.
    static func serveMetrics(_ config: LoadConfig, logger: Logger) -> (LoadMetrics?, MetricsServer?) {
        guard let listen = config.metricsListen else { return (nil, nil) }
        let metrics = LoadMetrics(workloads: config.workloads.map(\.name))
        do {
            let server = try MetricsServer(listen: listen, metrics: metrics)
            logger.info("load metrics served", metadata: ["url": "http://\(server.address)/metrics"])
            return (metrics, server)
        } catch {
            logger.warning("load metrics not served", metadata: ["error": "\(error)"])
            return (metrics, nil)
        }
    }
}
