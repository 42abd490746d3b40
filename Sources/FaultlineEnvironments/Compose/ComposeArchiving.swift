import Faultline
import Foundation

/// WAL archiving on the compose environment, as on local: two SeaweedFS stores (region A in the proxy container at
/// the client address, region B in the `s3b` container at .3; the project venv's static `weed`, mounted), each with
/// the CA, certificate and identities the local code makes; every node's pgBackRest configuration from the local
/// template, `archive_command` `pgbackrest archive-push`, `restore_command` `pgbackrest archive-get`. The bucket and
/// the stanza are made at `up` by the local code, run inside the containers.
extension ComposeEnvironment {
    /// `weed shell` against `store`'s master, inside its container (stdin: the shell's commands).
    func weedShell(_ store: ObjectStore) -> [String] {
        [engine.docker, "exec", "-i", config.container(storeService(store)), Self.weedInContainer, "shell",
         "-master=\(store.ip):\(ArchivingConfig.masterPort)"]
    }

    /// Creates the bucket in both stores (the local code, `weed shell` in each store's container).
    func createBuckets(timeout: Duration) async throws {
        for store in config.local.objectStores {
            try await shared.createBucket(store, timeout: timeout, weedShell: weedShell(store)) {}
        }
    }

    /// pgBackRest with `node`'s configuration, as postgres, inside its container (unchecked).
    @discardableResult
    public func pgbackrest(_ node: String, _ args: [String], timeout: Duration = .seconds(60)) async throws -> CommandResult {
        try await runner.run([engine.docker, "exec", "-u", "postgres", config.container(node), ArchivingConfig.pgbackrest,
                              "--config=\(config.local.pgbackrestConfig(node))", "--stanza=\(ArchivingConfig.stanza)"] + args,
                             check: false, timeout: timeout)
    }

    /// `stanza-create` on the leader, by the local code (retried until the gateways answer; a half-made stanza removed).
    func createStanza(on leader: String, timeout: Duration) async throws {
        try await shared.createStanza(on: leader, timeout: timeout, pgbackrest: { args, t in
            try await self.pgbackrest(leader, args, timeout: t)
        }, removeRepositories: {
            for store in self.config.local.objectStores {
                try await self.runner.run(self.weedShell(store), check: false, timeout: .seconds(20),
                                          stdin: "fs.rm -r /buckets/\(ArchivingConfig.bucket)\(ArchivingConfig.repoPath)\n")
            }
        })
        // As local: stanza-create held the archive lock; push what it held up (LocalEnvironment.pushReadySegments).
        let ls = try await exec(leader, ["ls", "\(config.local.dataDir(leader))/pg_wal/archive_status"], check: false)
        await shared.pushReadySegments(on: leader, archiveStatus: ls.stdout.split(separator: "\n").map(String.init)) { args, t in
            try await self.pgbackrest(leader, args, timeout: t)
        }
    }

    /// break-archiving: the object stores' port dropped in `node`'s container (the local rules, `dropPackets`), then
    /// `pg_switch_wal()` so the archiver has a segment to fail on. Returns the closed segment.
    func breakArchiving(_ node: String, _ filter: PacketFilter) async throws -> String {
        try await dropPackets(node, filter)
        return try shared.switchWal(node)
    }
}
