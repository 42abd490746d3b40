import Faultline
import Testing
@testable import FaultlineEnvironments

@Suite struct LocalFaultCatalogueTests {
    /// Every fault kind has the local environment's own text, and the core's neutral entry, so a new
    /// kind cannot be forgotten in `faultline list --faults`.
    @Test func coversEveryFaultKind() {
        for kind in FaultKind.allCases {
            let e = LocalFaultCatalogue.entry(kind)
            #expect(!e.injects.isEmpty && !e.heals.isEmpty, "\(kind)")
            let info = FaultKindInfo.info(kind)
            #expect(info.kind == kind && info.example.kind == kind && !info.summary.isEmpty, "\(kind)")
        }
        #expect(FaultKindInfo.all.map(\.kind) == FaultKind.allCases)
    }

    /// The core's text stays neutral: the local tools are named only in the local catalogue.
    @Test func coreTextNamesNoLocalTool() {
        for info in FaultKindInfo.all {
            for tool in ["iptables", "tc ", "SIGKILL", "SIGSTOP", "netem", "tbf", "PATCH", "POST"] {
                #expect(!info.summary.contains(tool), "\(info.kind): \(info.summary)")
            }
        }
        #expect(LocalFaultCatalogue.entry(.isolate).injects.contains("iptables"))
    }
}
