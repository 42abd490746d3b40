import Foundation

/// Settings of the compose environment, persisted in its state directory at `up` (like `LocalConfig`).
///
/// The address plan, timing profile and paths are the local environment's: `local` is a `LocalConfig` with this
/// subnet and state directory, and the configs are rendered from the same templates by the same code
/// (`ComposeFiles`). The proxy (HAProxy, PgBouncer) takes the local client address (.1), the nodes .11–.13, and the
/// network's gateway is .254 (the local host address): the host reaches every container there, nothing is published.
public struct ComposeConfig: Codable, Sendable, Equatable {
    public static let defaultSubnet = "10.79.0.0/24"
    public static let defaultStateDir = "/var/lib/faultline/compose"
    public static let defaultProject = "faultline-compose"

    /// The compose project name (`docker-compose -p`); it prefixes containers, the network and the volumes.
    public var project: String = ComposeConfig.defaultProject
    /// The image every service runs (`faultline/node:<content hash>`), set at `up`.
    public var image: String = ""
    /// Whether this environment's `up` started dockerd (then `down` stops it).
    public var startedEngine: Bool = false
    /// The local environment's settings this environment shares (subnet, state dir, timing profile, checkout).
    public var local: LocalConfig

    public init(subnet: String = ComposeConfig.defaultSubnet, stateDir: String = ComposeConfig.defaultStateDir, home: String = "") {
        var l = LocalConfig()
        l.subnet = subnet
        l.stateDir = stateDir
        l.home = home
        // Prometheus, Alertmanager and the exporters run with the ci profile, as local.
        l.observability = AlertProfile.ci.rawValue
        l.patroni = "/opt/patroni/bin/patroni"  // in the image
        self.local = l
    }

    public var stateDir: String { local.stateDir }
    public var composeFile: String { "\(local.home)/environments/compose/docker-compose.yml" }
    public var imageContext: String { "\(local.home)/environments/compose/node" }
    public var envFile: String { "\(stateDir)/compose.env" }
    public var configDir: String { "\(stateDir)/config" }
    public var engineDir: String { "\(stateDir)/engine" }
    public var nodeNames: [String] { local.nodeNames }
    /// The nodes, the proxy (HAProxy, PgBouncer, region A's object store, Prometheus, Alertmanager, exporters) and
    /// region B's object store.
    public var services: [String] { nodeNames + ["proxy", "s3b"] }
    public func container(_ service: String) -> String { "\(project)-\(service)" }

    /// The variables `docker-compose.yml` reads (its `${...}`), as the `--env-file` faultline writes. Pure.
    public var envFileText: String {
        [("FAULTLINE_COMPOSE_PROJECT", project), ("FAULTLINE_COMPOSE_IMAGE", image),
         ("FAULTLINE_COMPOSE_PREFIX", local.prefix), ("FAULTLINE_COMPOSE_STATE", stateDir), ("FAULTLINE_COMPOSE_WEED", local.weed),
         ("FAULTLINE_COMPOSE_DATA_MIB", "\(local.dataSizeMiB)")]
            .map { "\($0)=\($1)" }.joined(separator: "\n") + "\n"
    }

    /// The `docker-compose` command line for `args` (project, file and env file named).
    public func composeArgv(_ args: [String], binary: String = "/usr/bin/docker-compose") -> [String] {
        [binary, "--no-ansi", "-p", project, "-f", composeFile, "--env-file", envFile] + args
    }

    /// Checks the settings; the error says what is wrong and how to mend it.
    public func validate() throws(EnvironmentError) {
        try local.validate()
        guard local.prefix != LocalConfig().prefix else {
            throw .badConfig("subnet '\(local.subnet)' is the local environment's default; give compose its own (--subnet, default \(Self.defaultSubnet))")
        }
        guard project.hasPrefix("faultline"), project.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) else {
            throw .badConfig("compose project '\(project)' must start with 'faultline' and hold only lowercase letters, digits and '-'")
        }
    }

    public static func decode(_ data: Data) -> ComposeConfig? { try? JSONDecoder().decode(ComposeConfig.self, from: data) }
}
