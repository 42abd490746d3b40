import Foundation
import Testing
@testable import Faultline
import Scenarios

/// The partition-replicas verdicts (writes blocked during the fault, writes back after the heal, no RTO) and the
/// error budgets' treatment of requests failed fast in client backoff, on hand-built recordings.
@Suite("Write phases on recorded fixtures")
struct WritePhaseTests {
    /// Strict sync mode, primary n1 cut off from its replicas: fault applied at 10.2 s, heal started at 30 s and
    /// finished at 31 s; writes hang (indeterminate) from 10.2 s until 36 s, then run clean until 60 s.
    /// The direct probes: n1 accepts before and after, times out during the fault.
    static func blockedPartition(ackDuring: Bool = false, probeAcceptsDuring: Bool = false) -> Observations {
        var load = Fixture.writes(until: 60_000) { (10_200..<36_000).contains($0) }
        for i in load.windows.indices where load.windows[i].errorCount > 0 {
            load.windows[i].errors = (load.windows[i].startMs / 100) % 10 == 0 ? [.indeterminate: 4] : [:]
        }
        if ackDuring {
            load.acked.append(AckedWrite(id: "w2-77", startMs: 15_000, ackMs: 15_020, server: "10.77.0.11/tl1"))
        }
        var rounds: [WriteProbeRound] = []
        for t in stride(from: 0, to: 60_000, by: 500) {
            let during = (10_200..<30_000).contains(t) || (30_000..<35_000).contains(t)
            let accepted = !during || (probeAcceptsDuring && t == 20_000)
            rounds.append(WriteProbeRound(atMs: t, accepted: accepted ? ["n1"] : [],
                                          refused: (accepted ? [:] : ["n1": "timeout"]).merging(["n2": "read_only", "n3": "read_only"]) { a, _ in a }))
        }
        var obs = Observations(
            events: [TimelineEvent(atMs: 0, kind: .loadStarted),
                     TimelineEvent(atMs: 10_000, kind: .faultInjected, member: "n1", detail: "partition n1 from n2, n3"),
                     TimelineEvent(atMs: 10_200, kind: .faultApplied, member: "n1"),
                     TimelineEvent(atMs: 30_000, kind: .healStarted),
                     TimelineEvent(atMs: 31_000, kind: .healFinished)],
            load: load,
            conditions: [ConditionResult(step: 3, condition: .clusterHealthy(members: 3, sync: 1), withinMs: 90_000,
                                         startedAtMs: 31_000, metAtMs: 31_000, lastSeen: "n1=primary/tl1 n2=sync_standby/tl1 n3=async_replica/tl1")],
            readBack: ReadBack(checked: load.acked.count, missing: []),
            primaryAtInjection: "n1", loadStoppedAtMs: 60_000)
        obs.probes = ProbeReport(rounds: rounds)
        return obs
    }

    @Test func partitionReplicasJudgesBlockedWritesAndTheirReturnInsteadOfAnRTO() throws {
        let s = partitionPrimaryFromReplicas
        #expect(s.problems().isEmpty)
        #expect(s.targets.rto == nil)
        #expect(s.targets.writesDuringFault == .blocked)
        let vs = Assertions.evaluate(s, Self.blockedPartition())

        let rto = try verdict("rto", vs)
        #expect(rto.result.status == .skipped)
        #expect(rto.notes.contains { $0.hasPrefix("during the fault (+10.2 s…+30.0 s)") && $0.contains("indeterminate=") }, "\(rto.notes)")

        let during = try verdict("writes-during-fault", vs)
        #expect(during.result == .passed(measured: .count(0), target: .count(0)))
        #expect(during.notes.first?.hasPrefix("writes blocked during the fault") == true, "\(during.notes)")
        #expect(during.notes.contains { $0.contains("primary n1: accepted 0 of 39 rounds; refused: timeout=39") }, "\(during.notes)")

        // Writes hang until 36 s: back 6.0 s after the heal started (first ack 5 ms into the 36.0 s window).
        let back = try verdict("writes-back-after-heal", vs)
        #expect(back.result == .passed(measured: .ms(6_005), target: .ms(30_000)))
        #expect(back.notes.contains { $0.contains("indeterminate=") }, "the errors after the heal are listed: \(back.notes)")

        #expect(!vs.contains { $0.id == "error-budget-after" }, "no after-heal budget: writes-back-after-heal judges the return")
        #expect(try verdict("lost-writes", vs).result.status == .passed)
        #expect(try verdict("split-brain", vs).result.status == .passed)
        #expect(ExitStatus.of(vs) == .passed)
    }

    @Test func aWriteAcknowledgedDuringThePartitionFailsBlockedAndIsListed() throws {
        let v = try verdict("writes-during-fault", Assertions.evaluate(partitionPrimaryFromReplicas, Self.blockedPartition(ackDuring: true)))
        guard case .failed(let m, let t, let why) = v.result else { Issue.record("\(v.result)"); return }
        #expect(m == .count(1))
        #expect(t == .count(0))
        #expect(why.contains("writes continued") && why.contains("w2-77"))
        #expect(v.items == ["w2-77"])
    }

    @Test func aProbeAcceptedByTheOldPrimaryDuringThePartitionFailsBlocked() throws {
        let v = try verdict("writes-during-fault", Assertions.evaluate(partitionPrimaryFromReplicas, Self.blockedPartition(probeAcceptsDuring: true)))
        #expect(v.result.status == .failed)
        #expect(v.result.measured == .count(1))
        #expect(v.notes.contains { $0.contains("accepted 1 of 39") }, "\(v.notes)")
    }

    @Test func writesThatNeverComeBackFailWritesBack() throws {
        var obs = Self.blockedPartition()
        obs.load = Fixture.writes(until: 60_000) { $0 >= 10_200 }
        let v = try verdict("writes-back-after-heal", Assertions.evaluate(partitionPrimaryFromReplicas, obs))
        guard case .failed(nil, let t, let why) = v.result else { Issue.record("\(v.result)"); return }
        #expect(t == .ms(30_000))
        #expect(why.contains("30.0 s observed after the heal started"))
    }

    @Test func continuedJudgesTheLongestStall() throws {
        var s = partitionPrimaryFromReplicas
        s.targets.writesDuringFault = .continued(maxStall: .seconds(5))
        var obs = Self.blockedPartition()
        // Writes stall 10.2 s → 14 s, then continue through the fault.
        obs.load = Fixture.writes(until: 60_000) { (10_200..<14_000).contains($0) }
        let v = try verdict("writes-during-fault", Assertions.evaluate(s, obs))
        #expect(v.result == .passed(measured: .ms(3_805), target: .ms(5_000)))
        #expect(v.notes.first?.hasPrefix("writes continued") == true)
        s.targets.writesDuringFault = .continued(maxStall: .seconds(3))
        #expect(try verdict("writes-during-fault", Assertions.evaluate(s, obs)).result.status == .failed)
    }

    @Test func longestStallCountsTheSpanEdges() {
        #expect(WritePhases.longestStall([], in: 1_000..<5_000) == 4_000)
        #expect(WritePhases.longestStall([1_500, 2_000, 4_900, 9_000], in: 1_000..<5_000) == 2_900)
    }

    @Test func targetsWithoutRTOAndWithWritePhasesRoundTrip() throws {
        for t in [partitionPrimaryFromReplicas.targets,
                  Targets(writesDuringFault: .continued(maxStall: .milliseconds(1_500)), writesBackAfterHeal: .seconds(9))] {
            #expect(try JSONDecoder().decode(Targets.self, from: JSONEncoder().encode(t)) == t)
        }
        let json = String(decoding: try JSONEncoder().encode(partitionPrimaryFromReplicas.targets), as: UTF8.self)
        #expect(!json.contains("rtoMs"))
        #expect(json.contains(#""writesDuringFault":{"kind":"blocked"}"#))
    }

    @Test func badWritePhaseTargetsAreProblems() {
        var s = partitionPrimaryFromReplicas
        s.targets.writesBackAfterHeal = .zero
        s.targets.writesDuringFault = .continued(maxStall: .zero)
        #expect(s.problems().contains("writesBackAfterHeal must be positive"))
        #expect(s.problems().contains("a writes-during-fault stall bound must be positive"))
    }

    @Test func dryRunSaysThereIsNoRTO() {
        let text = partitionPrimaryFromReplicas.dryRunText(overrides: [], environment: "local")
        #expect(text.contains("targets: no RTO, lost writes <= 0, writes during the fault: blocked, writes back <= 30s after the heal starts"))
    }

    // MARK: error budgets and client backoff

    /// Healed at 40 s; after it, 5 windows (40.0–40.5 s) hold 20 client_backoff each plus one real refusal in the first.
    static func afterHealWithBackoff() -> Observations {
        var obs = Fixture.outage20s()
        for i in obs.load.windows.indices where (40_000..<40_500).contains(obs.load.windows[i].startMs) {
            obs.load.windows[i].ok = 0
            obs.load.windows[i].errors = [.clientBackoff: 20]
        }
        obs.load.windows[400].errors[.connectionRefused] = 1
        return obs
    }

    @Test func afterHealBudgetCountsRequestsSentAndReportsBackoffApart() throws {
        let v = try verdict("error-budget-after", Assertions.evaluate(killPrimary, Self.afterHealWithBackoff()))
        // 200 windows after the heal: 195 clean × 20 ok, 1 real refusal; the 100 client_backoff are not sent.
        #expect(v.result == .passed(measured: .ratio(1.0 / 3_901.0), target: .ratio(0.01)))
        #expect(v.notes.contains("1 errors in 3901 requests sent: connection_refused=1"), "\(v.notes)")
        #expect(v.notes.contains { $0.hasPrefix("100 more requests failed fast, unsent") }, "\(v.notes)")
    }

    @Test func clientBackoffStillCountsForTheClientViewRTO() throws {
        // The same backoff tail, but inside the outage's end: the RTO (client view) waits for it.
        var obs = Fixture.outage20s()
        for i in obs.load.windows.indices where (30_000..<30_500).contains(obs.load.windows[i].startMs) {
            obs.load.windows[i].ok = 0
            obs.load.windows[i].errors = [.clientBackoff: 20]
        }
        obs.load.acked.removeAll { $0.ackMs >= 30_000 && $0.ackMs <= 30_500 }
        #expect(RecoveryAnalysis.analyze(obs, sustain: .seconds(1))?.recoveryMs == 20_505)
    }

    @Test func outcomesSentOrNot() {
        #expect(!Outcome.clientBackoff.wasAttempted)
        #expect(Outcome.allCases.filter { !$0.wasAttempted } == [.clientBackoff])
        #expect(Outcome.tooManyConnections.isError && Outcome.clientBackoff.isError)
    }
}

/// The connection policy of a scenario workload (pgbench -C style clients).
@Suite struct ConnectionPolicyTests {
    @Test(arguments: [
        ("persistent", 0.0), ("per-transaction", 1.0), ("Per-Transaction", 1.0), ("per-transaction:25%", 0.25),
        ("per-transaction:0.5", 0.5), (" per-transaction:100% ", 1.0), ("per-transaction:12.5%", 0.125),
    ])
    func parses(_ text: String, _ share: Double) throws {
        #expect(try ConnectionPolicy.parse(text).perTransactionShare == share)
    }

    @Test(arguments: ["", "pooled", "per-transaction:", "per-transaction:0", "per-transaction:0%", "per-transaction:150%",
                      "per-transaction:-0.5", "per-transaction:abc", "per-transaction:nan", "per-request"])
    func refusesBadPolicies(_ text: String) {
        #expect(throws: InputError.self) { try ConnectionPolicy.parse(text) }
        #expect(ConnectionPolicy(text: text) == nil)
    }

    @Test func errorIsOneLineAndSaysHowToMendIt() {
        do {
            _ = try ConnectionPolicy.parse("per-transaction:2")
            Issue.record("accepted")
        } catch {
            #expect(!error.message.contains("\n"))
            #expect(error.message.contains("above 0 and at most 1"))
            #expect(error.message.contains("per-transaction:25%"))
        }
    }

    @Test func textFormRoundTrips() throws {
        for p in [ConnectionPolicy.persistent, .perTransaction, .perTransaction(share: 0.25), .perTransaction(share: 0.125)] {
            #expect(try ConnectionPolicy.parse(p.description) == p)
        }
        #expect(ConnectionPolicy.perTransaction(share: 0.25).description == "per-transaction:25%")
    }

    @Test func whichClientsConnectPerTransaction() {
        #expect(ConnectionPolicy.persistent.perTransactionClients(of: 4) == 0)
        #expect(ConnectionPolicy.perTransaction.perTransactionClients(of: 16) == 16)
        #expect(ConnectionPolicy.perTransaction(share: 0.5).perTransactionClients(of: 4) == 2)
        #expect(ConnectionPolicy.perTransaction(share: 0.01).perTransactionClients(of: 4) == 1, "a share above 0 is at least one client")
        let p = ConnectionPolicy.perTransaction(share: 0.25)
        #expect((0..<8).filter { p.connectsPerTransaction(client: $0, of: 8) } == [0, 1])
    }

    @Test func workloadsCarryItThroughJSONAndOverrides() throws {
        let ws: [Workload] = [.ledgerWrites(rate: 50, connect: .perTransaction), .replicaReads(rate: 50),
                              .replicaReads(rate: 5, connect: .perTransaction(share: 0.5))]
        let data = try JSONEncoder().encode(ws)
        #expect(try JSONDecoder().decode([Workload].self, from: data) == ws)
        let json = String(decoding: data, as: UTF8.self)
        #expect(json.contains(#""connect":"per-transaction""#))
        #expect(json.components(separatedBy: "connect").count == 3, "persistent is left out: \(json)")
        // Older documents have no "connect": persistent.
        #expect(try JSONDecoder().decode(Workload.self, from: Data(#"{"kind":"ledger-writes","rate":7}"#.utf8)) == .ledgerWrites(rate: 7))
        #expect(ws[0].withRate(9) == .ledgerWrites(rate: 9, connect: .perTransaction))
        #expect(ws[0].description == "ledger-writes at 50/s, connecting per-transaction")
    }

    @Test func connectionExhaustionWritersConnectPerTransaction() {
        let s = connectionExhaustion
        #expect(s.problems().isEmpty)
        #expect(s.workloads.first { $0.isWrite }?.connect == .perTransaction)
        let over = s.applying([.init(parameter: .rate, value: .count(20))])
        #expect(over.workloads.first { $0.isWrite } == .ledgerWrites(rate: 20, connect: .perTransaction))
    }
}
