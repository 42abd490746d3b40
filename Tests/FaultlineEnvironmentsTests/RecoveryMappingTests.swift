import Faultline
import Testing
@testable import FaultlineEnvironments

/// The local adapter's side of "a cluster that does not recover is the system's failure".
@Suite struct RecoveryMappingTests {
    func environment() -> LocalRunnerEnvironment {
        var c = LocalConfig()
        c.stateDir = "/tmp/faultline-unit-recovery-mapping-absent"  // never created: the environment is not up
        return LocalRunnerEnvironment(LocalEnvironment(config: c, logger: .init(label: "test")))
    }

    @Test func memberEndpointsAreEachNodeDirectlyWithoutAPassword() async {
        let env = environment()
        let e = await env.memberReadEndpoints()
        #expect(e.keys.sorted() == env.local.config.nodeNames.sorted())
        for (node, dsn) in e {
            #expect(dsn == env.local.config.direct(node))
            #expect(dsn.contains("host=\(env.local.config.nodeIP(node)) port=5432 user=faultline dbname=faultline"))
            #expect(dsn.contains("passfile=") && !dsn.contains("password="))
        }
    }

    @Test func aHealThatCannotRunStaysTheHarnesssError() async {
        await #expect(throws: EnvironmentError.notUp("local")) { try await environment().heal() }
    }
}
