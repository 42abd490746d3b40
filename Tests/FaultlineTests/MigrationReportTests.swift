import Testing
import Foundation
@testable import Faultline
@testable import FaultlineReports

@Suite("Migration verdicts in the reports")
struct MigrationReportTests {
    /// A run whose app errors and lock wait failed.
    static func report() -> RunReport {
        let facts = MigrationFixture.facts([MigrationFacts.lockWaitMaxMs: "2300",
                                            MigrationFacts.lockWaitBlocker: "ALTER TABLE orders ADD COLUMN status text"])
        let obs = MigrationFixture.obs(facts: facts, errors: [.otherSQLState: 212], sqlstates: ["42703": 212])
        return RunReport(runId: "mig", scenario: migrationScenario, environment: "local", startedAt: "2026-11-25T13:14:00Z",
                         durationMs: 16_000, observations: obs, judgement: Judgement(migrationScenario, obs))
    }

    @Test func everyMigrationVerdictRendersInMarkdownAndHTML() {
        let r = Self.report()
        let md = Render.markdown(r), html = Render.html(r)
        for id in ["app-errors", "migration-p99", "lock-wait", "replica-lag", "schema-at-revision"] {
            let v = r.verdicts.first { $0.id == id }
            #expect(v != nil, "\(id) missing")
            guard let v else { continue }
            #expect(md.contains(v.title), "\(id) not in the Markdown")
            #expect(html.contains("data-verdict=\"\(id)\""), "\(id) not in the HTML")
        }
        #expect(md.contains("212 errors: other_sqlstate 212 (42703 ×212)"))
        #expect(html.contains("blocked by: ALTER TABLE orders ADD COLUMN status text"))
    }

    @Test func theReportKeepsTheMigrationTargetsThroughJSON() throws {
        let r = Self.report()
        let back = try Render.decode(try Render.json(r))
        #expect(back.scenario.targets.migration == MigrationTargets())
        #expect(back.verdicts.map(\.id) == r.verdicts.map(\.id))
    }
}
