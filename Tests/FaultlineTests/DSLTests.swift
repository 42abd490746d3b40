import Testing
@testable import Faultline
import Scenarios

@Suite("DSL")
struct DSLTests {
    @Test func buildsStepsInWrittenOrder() {
        let s = Scenario("t", summary: "sum", tags: [.failover]) {
            Targets(rto: .seconds(20), lostWrites: 0, settle: .seconds(45))
            Load(.ledgerWrites(rate: 100))
            Load(.replicaReads(rate: 50))
            SteadyState(for: .seconds(5))
            Inject(.killNode(.primary))
            Await(.newPrimary, within: .seconds(20))
            Heal()
            Expect(.clusterHealthy(members: 3, sync: 1))
        }
        #expect(s.name == "t")
        #expect(s.tags == [.failover])
        #expect(s.targets.rto == .seconds(20))
        #expect(s.targets.settle == .seconds(45))
        #expect(s.workloads == [.ledgerWrites(rate: 100), .replicaReads(rate: 50)])
        #expect(s.steadyState == .seconds(5))
        #expect(s.steps == [
            .inject(.killNode(.primary)),
            .await(.newPrimary, within: .seconds(20)),
            .heal,
            .expect(.clusterHealthy(members: 3, sync: 1), within: nil),
        ])
        #expect(s.effectiveWithin(s.steps[3]) == .seconds(45))
        #expect(s.problems().isEmpty)
    }

    @Test func supportsConditionalsAndLoops() {
        let withHeal = false
        let s = Scenario("loop") {
            Load(.ledgerWrites(rate: 10))
            for _ in 0..<2 { Inject(.killPostgres(.anyReplica)) }
            if withHeal { Heal() } else { Expect(.primaryRecovered, within: .seconds(3)) }
        }
        #expect(s.steps == [
            .inject(.killPostgres(.anyReplica)), .inject(.killPostgres(.anyReplica)),
            .expect(.primaryRecovered, within: .seconds(3)),
        ])
    }

    @Test func validationCatchesMistakes() {
        let noInject = Scenario("x") { Load(.ledgerWrites(rate: 1)); Heal() }
        #expect(noInject.problems().contains("no Inject(...)"))
        #expect(noInject.problems().contains { $0.contains("before any Inject") })
        let noLoad = Scenario("bad name") { Inject(.killNode(.primary)) }
        #expect(noLoad.problems().contains { $0.contains("no load") })
        #expect(noLoad.problems().contains { $0.contains("bad name") })
    }

    @Test func catalogueScenariosAreValidAndUnique() throws {
        #expect(Array(Catalogue.all.map(\.name).prefix(3)) == ["kill-primary", "kill-postgres", "switchover"])
        #expect(Set(Catalogue.all.map(\.name)).count == Catalogue.all.count, "names are unique")
        for s in Catalogue.all {
            #expect(s.problems().isEmpty, "\(s.name): \(s.problems())")
            #expect(!s.summary.isEmpty)
        }
        #expect(try Catalogue.lookup("switchover").steps.first == .inject(.switchover(to: .syncStandby)))
        #expect(throws: InputError.self) { try Catalogue.lookup("kill-everything") }
    }

    @Test func planNamesEveryPhaseInOrder() {
        let lines = killPrimary.planLines()
        let keys = ["check steady state", "load on", "hold steady state for 10s", "inject: kill node",
                    "await new primary within 30s", "heal:", "settle: cluster healthy", "observe: keep the load on the healed cluster for 5s",
                    "load off"]
        var last = -1
        for k in keys {
            let i = lines.firstIndex { $0.contains(k) }
            #expect(i != nil, "missing \(k)")
            if let i { #expect(i > last, "\(k) out of order"); last = i }
        }
        #expect(lines.last?.contains("RTO <= 30s") == true)
    }

    @Test func planLeavesOutAnObservationOfZero() {
        var s = killPrimary
        s.targets.observeAfterHeal = .zero
        #expect(!s.planLines().contains { $0.contains("observe") })
        #expect(s.planLines().count == killPrimary.planLines().count - 1)
    }

    @Test func dryRunTextEndsWithExactlyOneNewline() {
        let t = killPrimary.dryRunText(overrides: ["rto=20s"], environment: "local")
        #expect(t.hasPrefix("kill-primary on local: dry run"))
        #expect(t.contains("  --set rto=20s\n"))
        #expect(t.hasSuffix("\n") && !t.hasSuffix("\n\n"))
        #expect(t.split(separator: "\n").last?.contains("targets: RTO") == true)
    }

    @Test func failoverScenariosObserveAfterTheHeal() {
        for s in [killPrimary, killPostgres, switchover] {
            #expect(s.targets.observeAfterHeal == .seconds(5), "\(s.name)")
            #expect(s.targets.errorBudgetAfter != nil, "\(s.name)")
            #expect(s.targets.p99After != nil, "\(s.name)")
        }
    }

    @Test func planAddsImplicitHeal() {
        let s = Scenario("nh") { Load(.ledgerWrites(rate: 1)); Inject(.killNode(.primary)) }
        #expect(s.planLines().contains { $0.contains("implicit") })
        #expect(!killPrimary.planLines().contains { $0.contains("implicit") })
    }
}

@Suite("Role selectors and faults")
struct SelectorTests {
    let topo = Topology(members: [
        Member(name: "n3", role: .asyncReplica, timeline: 1),
        Member(name: "n1", role: .primary, timeline: 1),
        Member(name: "n2", role: .syncStandby, timeline: 1),
    ])

    @Test func resolvesRolesAtInjection() throws {
        #expect(try RoleSelector.primary.resolve(in: topo).name == "n1")
        #expect(try RoleSelector.syncStandby.resolve(in: topo).name == "n2")
        #expect(try RoleSelector.asyncReplica.resolve(in: topo).name == "n3")
        #expect(try RoleSelector.anyReplica.resolve(in: topo).name == "n2")
        #expect(try RoleSelector.node("n3").resolve(in: topo).name == "n3")
        #expect(throws: RoleSelector.ResolutionError.self) { try RoleSelector.node("n9").resolve(in: topo) }
    }

    @Test func primarySelectorRefusesSplitBrain() {
        var t = topo
        t.members[0].role = .primary
        #expect(throws: RoleSelector.ResolutionError.ambiguous(.primary, t.summary)) { try RoleSelector.primary.resolve(in: t) }
    }

    @Test func faultsResolveToActionAndReversal() throws {
        #expect(try FaultSpec.killNode(.primary).resolve(in: topo)
            == ResolvedFault(action: .killNode(member: "n1"), reversal: .startNode(member: "n1")))
        #expect(try FaultSpec.killPostgres(.syncStandby).resolve(in: topo)
            == ResolvedFault(action: .killPostgres(member: "n2"), reversal: .startPostgres(member: "n2")))
        #expect(try FaultSpec.switchover(to: .asyncReplica).resolve(in: topo)
            == ResolvedFault(action: .switchover(from: "n1", to: "n3"), reversal: .nothingToUndo))
        #expect(throws: RoleSelector.ResolutionError.self) { try FaultSpec.switchover(to: .node("n1")).resolve(in: topo) }
    }

    @Test func selectorTextRoundTrips() {
        for s in [RoleSelector.primary, .syncStandby, .asyncReplica, .anyReplica, .node("n2")] {
            #expect(RoleSelector(text: s.description) == s)
        }
        #expect(RoleSelector(text: "node:") == nil)
    }

    @Test func healthNamesEachProblem() {
        #expect(topo.isHealthy(ClusterShape(members: 3, sync: 1)))
        var t = topo
        t.members[1].role = .down
        let p = t.problems(against: ClusterShape(members: 3, sync: 1))
        #expect(p == ["not running: n1", "0 primaries, want 1"])
    }
}
