import Foundation
import Synchronization
import Testing
@testable import FaultlineEnvironments
#if canImport(Glibc)
import Glibc
#endif

/// `HTTP.getAll` against a tiny HTTP/1.0 listener on 127.0.0.1: answers in order, failures in place,
/// and the members' requests in flight at once (the listener answers none until all have arrived).
@Suite struct HTTPGetAllTests {
    /// Accepts `expected` connections, holds every answer until all are open (or 3 s pass), then
    /// answers each with its request path as the body.
    final class Listener: @unchecked Sendable {
        let fd: Int32
        let port: UInt16
        let expected: Int
        private let cond = NSCondition()
        private var open = 0
        private var most = 0

        init(expected: Int) throws {
            self.expected = expected
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = 0
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard rc == 0, listen(fd, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
            var bound = sockaddr_in()
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
            self.fd = fd
            port = UInt16(bigEndian: bound.sin_port)
            Thread.detachNewThread { [self] in
                for _ in 0..<expected {
                    let c = accept(fd, nil, nil)
                    guard c >= 0 else { return }
                    Thread.detachNewThread { [self] in serve(c) }
                }
            }
        }

        /// The most connections that were open at once.
        var mostAtOnce: Int { cond.lock(); defer { cond.unlock() }; return most }

        func close() { _ = Glibc.close(fd) }

        private func serve(_ c: Int32) {
            defer { _ = Glibc.close(c) }
            var data = [UInt8]()
            var buf = [UInt8](repeating: 0, count: 4096)
            while !String(decoding: data, as: UTF8.self).contains("\r\n\r\n") {
                let n = buf.withUnsafeMutableBytes { recv(c, $0.baseAddress!, $0.count, 0) }
                if n <= 0 { return }
                data += buf[0..<n]
            }
            let path = String(decoding: data, as: UTF8.self).split(separator: " ").dropFirst().first.map(String.init) ?? "?"
            cond.lock()
            open += 1
            most = max(most, open)
            cond.broadcast()
            let until = Date(timeIntervalSinceNow: 3)
            while open < expected, cond.wait(until: until) {}
            cond.unlock()
            let answer = Array("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n\(path)".utf8)
            _ = answer.withUnsafeBytes { send(c, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
        }
    }

    @Test func answersInOrderWithTheMembersRequestsAtOnce() throws {
        let listener = try Listener(expected: 3)
        defer { listener.close() }
        let base = "http://127.0.0.1:\(listener.port)"
        let answers = HTTP.getAll([base + "/a", base + "/b", "not-a-url", base + "/c"], timeout: .seconds(10))
        #expect(answers.count == 4)
        #expect((try? answers[0].get())?.body == "/a")
        #expect((try? answers[1].get())?.body == "/b")
        #expect((try? answers[3].get())?.status == 200)
        #expect((try? answers[3].get())?.body == "/c")
        guard case .failure(.badURL) = answers[2] else {
            Issue.record("expected a bad URL failure, got \(answers[2])")
            return
        }
        #expect(listener.mostAtOnce == 3)
    }

    @Test func anEmptyListAndARefusedConnection() throws {
        #expect(HTTP.getAll([]).isEmpty)
        // A port just released: nothing listens there.
        let listener = try Listener(expected: 0)
        let port = listener.port
        listener.close()
        let answers = HTTP.getAll(["http://127.0.0.1:\(port)/x"], timeout: .seconds(2))
        guard case .failure(.connect) = answers[0] else {
            Issue.record("expected a refused connection, got \(answers[0])")
            return
        }
    }
}
