import Foundation
import Logging
import Synchronization
import Testing
@testable import Faultline
import Scenarios

/// `ExpectSplitBrain()` and the rogue-promote fault: a split brain provoked on purpose must be seen by the
/// direct probes during the fault and be gone after the heal; every other scenario still fails on one.
@Suite struct SplitBrainExpectationTests {
    let topo = Topology(members: [
        Member(name: "n1", role: .primary, timeline: 1),
        Member(name: "n2", role: .syncStandby, timeline: 1),
        Member(name: "n3", role: .asyncReplica, timeline: 1),
    ])

    /// Injected at 10 s, heal from 20 s to 28 s, load until 40 s.
    static func observations(_ rounds: [WriteProbeRound]?, healed: Bool = true, cancelled: Bool = false) -> Observations {
        var events = [TimelineEvent(atMs: 0, kind: .loadStarted),
                      TimelineEvent(atMs: 10_000, kind: .faultInjected, member: "n3", detail: "maintenance mode on, then pg_promote() on n3"),
                      TimelineEvent(atMs: 20_000, kind: .healStarted)]
        if healed { events.append(TimelineEvent(atMs: 28_000, kind: .healFinished)) }
        var o = Observations(events: events, cancelled: cancelled, loadStoppedAtMs: 40_000)
        o.probes = rounds.map { ProbeReport(rounds: $0) }
        return o
    }

    static func round(_ at: Int, _ accepted: String...) -> WriteProbeRound {
        WriteProbeRound(atMs: at, accepted: accepted, refused: [:])
    }

    /// One writer before, two during the fault, two while the heal runs, one after.
    static let provokedAndEnded: [WriteProbeRound] = [
        round(9_500, "n1"), round(10_500, "n1", "n3"), round(15_000, "n1", "n3"), round(19_500, "n1", "n3"),
        round(24_000, "n1", "n3"), round(28_500, "n1"), round(35_000, "n1"),
    ]

    static let provoked = Scenario(name: "p", workloads: [.ledgerWrites(rate: 1)], steps: [.inject(.roguePromote(.asyncReplica)), .heal],
                                   splitBrain: .provoked)

    // MARK: DSL and model

    @Test func dslSetsTheExpectationAndDefaultIsForbidden() {
        let plain = Scenario("plain") { Load(.ledgerWrites(rate: 1)); Inject(.killNode(.primary)) }
        #expect(plain.splitBrain == .forbidden)
        let provoked = Scenario("rogue") { Load(.ledgerWrites(rate: 1)); Inject(.roguePromote(.asyncReplica)); ExpectSplitBrain(); Heal() }
        #expect(provoked.splitBrain == .provoked)
        #expect(provoked.steps == [.inject(.roguePromote(.asyncReplica)), .heal], "ExpectSplitBrain adds no step")
        #expect(provoked.planLines().last?.hasPrefix("split brain provoked on purpose") == true)
        #expect(!plain.planLines().contains { $0.contains("split brain") })
    }

    @Test func expectationRoundTripsAndOldJSONMeansForbidden() throws {
        let data = try JSONEncoder().encode(Self.provoked)
        #expect(try JSONDecoder().decode(Scenario.self, from: data) == Self.provoked)
        var plain = Self.provoked
        plain.splitBrain = .forbidden
        let plainData = try JSONEncoder().encode(plain)
        #expect(!String(decoding: plainData, as: UTF8.self).contains("splitBrain"), "old reports keep their form")
        #expect(try JSONDecoder().decode(Scenario.self, from: plainData).splitBrain == .forbidden)
    }

    @Test func onlyRoguePromoteProvokesASplitBrain() {
        #expect(Catalogue.all.filter { $0.splitBrain == .provoked }.map(\.name) == ["rogue-promote"])
        #expect(Catalogue.scenario(named: "no-leader")?.splitBrain == .forbidden)
    }

    @Test func roguePromoteResolvesToAReplicaOnly() throws {
        let r = try FaultSpec.roguePromote(.asyncReplica).resolve(in: topo)
        #expect(r.action == .roguePromote(member: "n3"))
        #expect(r.reversal == .rejoinRogue(member: "n3"))
        #expect(r.action.members == ["n3"])
        #expect(FaultSpec.roguePromote(.asyncReplica).kind.rawValue == "rogue-promote")
        #expect(throws: RoleSelector.ResolutionError.self) { try FaultSpec.roguePromote(.primary).resolve(in: topo) }
        #expect(FaultKindInfo.all.contains { $0.kind.rawValue == "rogue-promote" })
    }

    @Test func roguePromoteRoundTripsThroughJSONAndTheLedger() throws {
        let spec = FaultSpec.roguePromote(.syncStandby)
        let data = try JSONEncoder().encode(spec)
        #expect(String(decoding: data, as: UTF8.self).contains(#""kind":"rogue-promote""#))
        #expect(try JSONDecoder().decode(FaultSpec.self, from: data) == spec)
        let resolved = try spec.resolve(in: topo)
        let entry = FaultLedgerEntry(id: "r/1", runId: "r", scenario: "s", action: resolved.action, reversal: resolved.reversal)
        let entryData = try JSONEncoder().encode(entry)
        #expect(String(decoding: entryData, as: UTF8.self).contains(#""kind":"rejoin-rogue""#))
        #expect(try JSONDecoder().decode(FaultLedgerEntry.self, from: entryData) == entry)
    }

    // MARK: verdicts

    @Test func provokedSplitBrainSeenAndEndedPasses() throws {
        let v = try #require(FaultChecks.evaluate(Self.provoked, Self.observations(Self.provokedAndEnded)).first)
        #expect(v.id == "split-brain-provoked")
        #expect(v.result == .passed(measured: .count(0), target: .count(0)))
        // The rounds while the heal runs (24 s) are not counted as "during the fault".
        #expect(v.items == ["+10.5 s: n1, n3", "+15.0 s: n1, n3", "+19.5 s: n1, n3"])
        #expect(v.notes.contains { $0.hasPrefix("first seen +500 ms after the injection (n1, n3)") })
        #expect(!Assertions.evaluate(Self.provoked, Self.observations(Self.provokedAndEnded)).contains { $0.id == "split-brain" })
    }

    @Test func ordinaryScenarioStillFailsOnTheSameProbes() throws {
        var plain = Self.provoked
        plain.splitBrain = .forbidden
        let all = Assertions.evaluate(plain, Self.observations(Self.provokedAndEnded))
        let v = try #require(all.first { $0.id == "split-brain" })
        #expect(v.result.status == .failed)
        #expect(!all.contains { $0.id == "split-brain-provoked" })
        #expect(ExitStatus.of(FaultChecks.evaluate(plain, Self.observations(Self.provokedAndEnded))) == .targetFailed)
    }

    @Test func provokedButNeverSeenFails() throws {
        let single = [Self.round(9_500, "n1"), Self.round(12_000, "n1"), Self.round(30_000, "n1")]
        let v = try #require(FaultChecks.evaluate(Self.provoked, Self.observations(single)).first)
        #expect(v.result.status == .failed)
        #expect(v.result.message?.contains("no probe round saw two members") == true)
        // Two writers before the injection do not count either.
        let early = [Self.round(5_000, "n1", "n3"), Self.round(12_000, "n1")]
        #expect(FaultChecks.evaluate(Self.provoked, Self.observations(early)).first?.result.status == .failed)
        // Two writers only while the heal runs do not count as provoked.
        let onlyDuringHeal = [Self.round(12_000, "n1"), Self.round(22_000, "n1", "n3"), Self.round(30_000, "n1")]
        #expect(FaultChecks.evaluate(Self.provoked, Self.observations(onlyDuringHeal)).first?.result.status == .failed)
    }

    @Test func provokedWithoutProbesFailsInsteadOfPassingSilently() throws {
        let none = FaultChecks.evaluate(Self.provoked, Self.observations(nil))
        #expect(none.map(\.id) == ["split-brain-provoked"])
        #expect(none.first?.result.status == .failed)
        let empty = FaultChecks.evaluate(Self.provoked, Self.observations([]))
        #expect(empty.first?.result.status == .failed)
    }

    @Test func splitBrainLastingPastTheHealFails() throws {
        let lasting = Self.provokedAndEnded + [Self.round(36_000, "n1", "n3")]
        let v = try #require(FaultChecks.evaluate(Self.provoked, Self.observations(lasting)).first)
        #expect(v.result == .failed(measured: .count(1), target: .count(0),
                                    why: "1 round(s) after the heal still had two members acknowledging writes"))
        #expect(v.items.last == "after heal +36.0 s: n1, n3")
        let unhealed = try #require(FaultChecks.evaluate(Self.provoked, Self.observations(Self.provokedAndEnded, healed: false)).first)
        #expect(unhealed.result.status == .failed)
        #expect(unhealed.result.message?.contains("heal did not finish") == true)
    }

    @Test func cancelledRunIsSkippedNotPassed() throws {
        let v = try #require(FaultChecks.evaluate(Self.provoked, Self.observations([], healed: false, cancelled: true)).first)
        #expect(v.result.status == .skipped)
    }

    // MARK: through the runner, on the virtual clock

    /// A cluster where the rogue-promote fault makes the probes see two writers and the alerting list
    /// FaultlineSplitBrain until the reversal runs. `endsSplitBrain: false` models a rejoin that did nothing.
    actor RogueCluster: Environment {
        let clock: VirtualClock
        let journal: Journal
        let endsSplitBrain: Bool
        var appliedAt: VirtualClock.Instant?
        var revertedAt: VirtualClock.Instant?

        init(clock: VirtualClock, journal: Journal, endsSplitBrain: Bool) {
            self.clock = clock
            self.journal = journal
            self.endsSplitBrain = endsSplitBrain
        }

        func topology() async throws -> Topology {
            Topology(members: [Member(name: "n1", role: .primary, timeline: 1), Member(name: "n2", role: .syncStandby, timeline: 1),
                               Member(name: "n3", role: appliedAt != nil && revertedAt == nil ? .unknown : .asyncReplica, timeline: 1)])
        }

        func apply(_ action: FaultAction) async throws {
            journal.add("apply \(action)")
            appliedAt = clock.now
            clock.advance(by: .milliseconds(200))
        }

        func revert(_ reversal: Reversal) async throws {
            journal.add("revert \(reversal)")
            clock.advance(by: .seconds(8))
            revertedAt = clock.now
        }

        func heal() async throws { journal.add("heal") }

        func activeAlerts() async throws -> [ActiveAlert] {
            guard let a = appliedAt, clock.now >= a.advanced(by: .seconds(3)), revertedAt == nil || !endsSplitBrain else { return [] }
            return [ActiveAlert(name: AlertName.splitBrain, labels: ["severity": "critical"])]
        }

        /// A round every 500 ms from the apply to the end: two writers until the revert (forever if it ends nothing).
        func probeReport() async -> ProbeReport? {
            guard let a = appliedAt else { return nil }
            let end = a.duration(to: clock.now).milliseconds
            let healAt = revertedAt.map { a.duration(to: $0).milliseconds } ?? Int.max
            return ProbeReport(rounds: stride(from: 500, through: end, by: 500).map { t in
                t < healAt || !endsSplitBrain ? WriteProbeRound(atMs: t, accepted: ["n1", "n3"], refused: [:])
                    : WriteProbeRound(atMs: t, accepted: ["n1"], refused: ["n3": "read_only"])
            })
        }
    }

    func run(endsSplitBrain: Bool) async -> (Observations, Journal, InMemoryLedger) {
        let clock = VirtualClock(), journal = Journal()
        let env = RogueCluster(clock: clock, journal: journal, endsSplitBrain: endsSplitBrain)
        let ledger = InMemoryLedger(journal: journal)
        let runner = Runner(environment: env, load: FakeLoad(observations: LoadObservations(), journal: journal, clock: clock),
                            ledger: ledger, clock: clock, runId: "r1", logger: Logger(label: "test"))
        return (await runner.run(roguePromote), journal, ledger)
    }

    @Test func roguePromoteScenarioPassesWhenTheHealEndsTheSplitBrain() async throws {
        let (obs, journal, ledger) = await run(endsSplitBrain: true)
        let j = journal.all
        let record = try #require(journal.index("ledger record maintenance mode off; n3 back as a replica"))
        let apply = try #require(journal.index("apply maintenance mode on, then pg_promote() on n3"))
        let revert = try #require(journal.index("revert maintenance mode off; n3 back as a replica"))
        #expect(record < apply && apply < revert, "\(j)")
        #expect(try await ledger.entries().isEmpty)
        let verdicts = Assertions.evaluate(roguePromote, obs)
        let byId = Dictionary(verdicts.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byId["split-brain-provoked"]?.result.status == .passed, "\(byId["split-brain-provoked"]?.result.message ?? "")")
        #expect(byId["expect-alert-firing"]?.result.status == .passed)
        #expect(byId["settle-alert-resolved"]?.result.status == .passed)
        #expect(byId["split-brain"] == nil)
        #expect(ExitStatus.of(verdicts) == .passed, "\(verdicts.map { "\($0.id)=\($0.result.status)" })")
    }

    @Test func roguePromoteScenarioFailsWhenTheSplitBrainOutlivesTheHeal() async throws {
        let (obs, _, _) = await run(endsSplitBrain: false)
        let verdicts = Assertions.evaluate(roguePromote, obs)
        let v = try #require(verdicts.first { $0.id == "split-brain-provoked" })
        #expect(v.result.status == .failed)
        #expect(verdicts.first { $0.id == "settle-alert-resolved" }?.result.status == .failed)
        #expect(ExitStatus.of(verdicts) == .targetFailed)
    }
}
