import FaultlineConcurrency
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.0 client for the JSON APIs of Patroni, Prometheus and Alertmanager on addresses
/// the environment created. Every call is bounded by `timeout`; no redirects, no TLS.
public enum HTTP {
    public struct Response: Sendable {
        public var status: Int
        public var body: String
    }

    public enum Failure: Error, CustomStringConvertible {
        case badURL(String), connect(String), timeout(String), malformed(String)
        public var description: String {
            switch self {
            case .badURL(let u): return "bad URL \(u)"
            case .connect(let u): return "cannot connect to \(u)"
            case .timeout(let u): return "no answer from \(u) in time"
            case .malformed(let u): return "malformed HTTP answer from \(u)"
            }
        }
    }

    /// GETs `url` (http://host:port/path) within `timeout`.
    public static func get(_ url: String, timeout: Duration = .seconds(2)) throws(Failure) -> Response {
        try request("GET", url, timeout: timeout)
    }

    /// GETs every URL at once on the bounded blocking pool (no thread per call), each within `timeout`;
    /// answers in the same order.
    public static func getAll(_ urls: [String], timeout: Duration = .seconds(2)) -> [Result<Response, Failure>] {
        let results = Answers(urls.count)
        Blocking.forEach(urls.count) { i in
            let r: Result<Response, Failure>
            do throws(Failure) { r = .success(try get(urls[i], timeout: timeout)) } catch { r = .failure(error) }
            results.set(i, r)
        }
        return results.all
    }

    /// `getAll`'s answers, filled in from the pool's threads.
    private final class Answers: Sendable {
        private let slots: Mutex<[Result<Response, Failure>?]>
        init(_ n: Int) { slots = Mutex(Array(repeating: nil, count: n)) }
        func set(_ i: Int, _ r: Result<Response, Failure>) { slots.withLock { $0[i] = r } }
        var all: [Result<Response, Failure>] { slots.withLock { $0.map { $0 ?? .failure(.timeout("(no answer)")) } } }
    }

    /// Sends a request with an optional JSON body within `timeout`.
    public static func request(_ method: String, _ url: String, body: String? = nil, timeout: Duration = .seconds(2)) throws(Failure) -> Response {
        guard url.hasPrefix("http://") else { throw .badURL(url) }
        let rest = url.dropFirst(7)
        let hostPort = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(hostPort.count)
        let parts = hostPort.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else { throw .badURL(url) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, String(parts[0]), &addr.sin_addr) == 1 else { throw .badURL(url) }

        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .connect(url) }
        defer { Glibc.close(fd) }
        let deadline = ContinuousClock.now + timeout
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            guard errno == EINPROGRESS else { throw .connect(url) }
            guard waitFD(fd, Int16(POLLOUT), deadline) else { throw .timeout(url) }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            guard err == 0 else { throw .connect(url) }
        }
        var req = "\(method) \(path.isEmpty ? "/" : String(path)) HTTP/1.0\r\nHost: \(hostPort)\r\nAccept: application/json\r\n"
        if let body {
            req += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        } else {
            req += "\r\n"
        }
        var bytes = Array(req.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeMutableBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n > 0 { sent += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) {
                guard waitFD(fd, Int16(POLLOUT), deadline) else { throw .timeout(url) }
                continue
            }
            throw .connect(url)
        }
        var data = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 65536)
        while data.count < 16 << 20 {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 { data += buf[0..<n]; continue }
            if n == 0 { break }
            if errno == EAGAIN || errno == EINTR {
                guard waitFD(fd, Int16(POLLIN), deadline) else { throw .timeout(url) }
                continue
            }
            break
        }
        bytes = data
        guard let text = String(bytes: bytes, encoding: .utf8), let sep = text.range(of: "\r\n\r\n") else { throw .malformed(url) }
        let statusLine = text[..<sep.lowerBound].split(separator: "\r\n").first ?? ""
        let fields = statusLine.split(separator: " ")
        guard fields.count >= 2, let status = Int(fields[1]) else { throw .malformed(url) }
        return Response(status: status, body: String(text[sep.upperBound...]))
    }

    private static func waitFD(_ fd: Int32, _ events: Int16, _ deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let left = deadline - ContinuousClock.now
            if left <= .zero { return false }
            let ms = Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            var p = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&p, 1, ms)
            if n > 0 { return true }
            if n < 0 && errno != EINTR { return false }
        }
    }
}
