import Faultline
import FaultlinePG
import Testing
@testable import FaultlineLoad

/// The `session` workload's own check: what a read-back of the session variable means.
@Suite struct SessionStateTests {
    @Test func itsOwnTokenPasses() {
        let t = SessionClient.token(runID: "r1", worker: 3, connection: 2)
        #expect(t == "r1-w3-c2")
        #expect(SessionClient.check(expected: t, read: t) == nil)
    }

    @Test func anotherSessionsTokenIsStateLost() throws {
        let e = try #require(SessionClient.check(expected: "r1-w3-c1", read: "r1-w5-c1"))
        #expect(e.message.hasPrefix("session state lost"))
        #expect(e.message.contains("'r1-w5-c1' (another session's)"))
        #expect(ErrorClassifier.outcome(for: e, phase: .statement) == .otherSQLState)
        #expect(!ErrorClassifier.shouldReconnect(after: .otherSQLState), "the client keeps its connection, so every later request is checked again")
    }

    @Test func noTokenIsStateLost() throws {
        for read in [nil, ""] as [String?] {
            let e = try #require(SessionClient.check(expected: "r1-w0-c1", read: read))
            #expect(e.message.contains("read nothing"))
        }
    }

    @Test func aNewConnectionSetsANewToken() {
        var s = SessionClient()
        s.connected()
        #expect(s.token == nil)
        #expect(SessionClient.token(runID: "r", worker: 0, connection: 1) != SessionClient.token(runID: "r", worker: 0, connection: 2))
        #expect(SessionClient.token(runID: "r", worker: 0, connection: 1) != SessionClient.token(runID: "r", worker: 1, connection: 1))
    }

    @Test func theWorkloadIsKnownByName() {
        #expect(WorkloadKind(rawValue: "session") == .session)
        #expect(WorkloadKind.session.defaultName == "session-state")
    }
}
