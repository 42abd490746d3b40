import FaultlineConcurrency
import FaultlinePG
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Bring-up and teardown of the compose environment.
extension ComposeEnvironment {
    /// Engine, base image, the environment's image, configs, `docker-compose up`, then waits until the cluster is
    /// healthy and commits go through HAProxy and PgBouncer. Refuses when not root or already up (nothing changed); a
    /// missing or unstartable engine is exit 4 with how to mend it; a failed image build names its step and log. A
    /// failure after the engine answers tears down what it made (and the dockerd it started).
    public func up(timeout: Duration = .seconds(120)) async throws -> BringUpReport {
        try config.validate()
        guard geteuid() == 0 else { throw EnvironmentError.notRoot }
        for bin in ["/usr/bin/docker-compose", config.composeFile, "\(config.imageContext)/Dockerfile"]
        where !FileManager.default.fileExists(atPath: bin) { throw EnvironmentError.requirementMissing(bin) }
        // SeaweedFS: the project venv's static binary, mounted in the store containers (`scripts/setup` installs it).
        guard FileManager.default.isExecutableFile(atPath: config.local.weed) else { throw EnvironmentError.requirementMissing(config.local.weed) }
        for t in ["patroni.yml", "etcd.conf.yml", "haproxy.cfg", "pgbouncer.ini", "pgbackrest.conf"] {
            let p = "\(config.local.home)/environments/local/\(t).tmpl"
            if !FileManager.default.fileExists(atPath: p) { throw EnvironmentError.requirementMissing(p) }
        }
        guard ComposeEnvironment.existing(stateDir: config.stateDir, logger: logger) == nil else { throw EnvironmentError.alreadyUp("compose") }
        let started = ContinuousClock.now
        var phases: [(name: String, at: Duration)] = []
        func mark(_ name: String) {
            phases.append((name, ContinuousClock.now - started))
            logger.info("up: \(name)", metadata: ["at": "\(ContinuousClock.now - started)"])
        }
        try FileManager.default.createDirectory(atPath: config.engineDir, withIntermediateDirectories: true)
        let startedEngine: Bool
        do {
            startedEngine = try await engine.ensureRunning()
        } catch {
            try? FileManager.default.removeItem(atPath: config.stateDir)
            throw error
        }
        mark(startedEngine ? "dockerd started" : "dockerd already running")
        do {
            try await refuseConflicts()  // ComposeConflicts.swift: nothing built yet
        } catch {
            if startedEngine { await engine.stopIfStarted() }
            try? FileManager.default.removeItem(atPath: config.stateDir)
            throw error
        }
        var phase = "images"
        do {
            var cfg = config
            cfg.startedEngine = startedEngine
            let base = try await engine.ensureBaseImage(scratch: "\(config.engineDir)/base")
            mark("debian:bookworm \(base)")
            let image = try await engine.ensureImage(context: config.imageContext)
            cfg.image = image.tag
            mark("\(image.tag) \(image.built ? "built" : "reused")")
            phase = "configs"
            let env = ComposeEnvironment(config: cfg, logger: logger)
            try JSONEncoder.pretty.encode(cfg).write(to: Self.configURL(cfg.stateDir))
            let secrets = try env.writeFiles()
            try await env.prepareStores(secrets: secrets)
            mark("configs rendered from environments/local, object stores' TLS")
            phase = "containers"
            _ = try await env.compose(["up", "-d", "--no-build"], timeout: .seconds(180))
            mark("containers started")
            phase = "Patroni leader"
            // The buckets are created while Patroni bootstraps, as local.
            async let buckets: Void = env.createBuckets(timeout: .seconds(60))
            // The leader this poll saw running, not a second look (local's bring-up says why).
            let leader: String
            do {
                leader = try await env.shared.poll(timeout: timeout, what: "a leader") { () -> String? in
                    await env.status(withReplication: false).runningLeader
                }
            } catch {
                try? await buckets
                throw error
            }
            mark("Patroni leader running")
            phase = "S3 buckets and pgBackRest stanza"
            try await buckets
            try await env.createStanza(on: leader, timeout: .seconds(20))
            mark("S3 buckets and pgBackRest stanza")
            phase = "application database"
            try await env.createAppDatabase(secrets: secrets, on: leader)
            mark("application database")
            phase = "healthy cluster"
            let healthy = try await env.waitHealthy(timeout: timeout)
            mark("healthy: 2 streaming replicas, 1 sync")
            phase = "writes through HAProxy and PgBouncer"
            try await env.shared.waitEndpoints(timeout: .seconds(30))
            mark("writes through HAProxy and PgBouncer")
            phase = "first WAL segment archived"
            let seg = try await env.shared.waitFirstArchive(on: healthy.leader?.name ?? leader, timeout: .seconds(75))
            mark("WAL archiving: \(seg) archived (pgBackRest, both object stores)")
            if cfg.local.observabilityEnabled {
                phase = "Prometheus and Alertmanager"
                let l = cfg.local
                try await env.shared.poll(timeout: .seconds(30), what: "Prometheus and Alertmanager to be ready") { () -> Void? in
                    let ready = await Blocking.run {
                        [l.prometheusURL, l.alertmanagerURL].allSatisfy { (try? HTTP.get($0 + "/-/ready", timeout: .milliseconds(500)))?.status == 200 }
                    }
                    return ready ? () : nil
                }
                mark("observability (\(l.alertProfile.rawValue) alerts): Prometheus and Alertmanager ready")
            }
            return BringUpReport(elapsed: ContinuousClock.now - started, phases: phases, status: await env.status())
        } catch {
            if case EnvironmentError.imageBuildFailed = error {
                await teardown(stopEngine: startedEngine)
                throw error
            }
            let reason = (error as? EnvironmentError)?.description ?? "\(error)"
            let kept = await keepLogs()
            logger.error("compose up failed in phase '\(phase)'; logs kept in \(kept)")
            let left = await teardown(stopEngine: startedEngine)
            throw EnvironmentError.bringUpFailed(phase: phase, attempts: 1, reason: reason + "; container logs kept in \(kept)", leftovers: left)
        }
    }

    private func createAppDatabase(secrets: LocalEnvironment.SecretSet, on leader: String) async throws {
        let l = config.local
        let pw = secrets.app.replacingOccurrences(of: "'", with: "''")
        try await Blocking.run { () throws -> Void in
            let admin = try PGConnection(l.direct(leader, user: "postgres", dbname: "postgres"))
            defer { admin.close() }
            try admin.exec("set synchronous_commit = local")
            try admin.exec("create role faultline login password '\(pw)'")
            try admin.exec("create database faultline owner faultline")
            let app = try PGConnection(l.direct(leader, user: "postgres", dbname: "faultline"))
            defer { app.close() }
            try app.exec("set synchronous_commit = local; create extension if not exists pg_stat_statements; grant pg_monitor to faultline")
        }
    }

    /// Each container's output and each node's Patroni and etcd logs, copied to /tmp/faultline-compose-failed-up-logs.
    func keepLogs(in kept: String = "/tmp/faultline-compose-failed-up-logs") async -> String {
        try? FileManager.default.removeItem(atPath: kept)
        try? FileManager.default.createDirectory(atPath: kept, withIntermediateDirectories: true)
        for s in config.services {
            if let r = try? await runner.run([engine.docker, "logs", "--tail", "200", config.container(s)], check: false, timeout: .seconds(20)) {
                try? Data(Secrets.mask(r.stdout + r.stderr).utf8).write(to: URL(fileURLWithPath: "\(kept)/\(s).log"))
            }
        }
        for n in config.nodeNames {
            for f in ["patroni", "etcd"] {
                if let r = try? await exec(n, ["tail", "-n", "200", "\(config.local.nodeDir(n))/log/\(f).log"], check: false, timeout: .seconds(20)) {
                    try? Data(Secrets.mask(r.stdout).utf8).write(to: URL(fileURLWithPath: "\(kept)/\(n)-\(f).log"))
                }
            }
        }
        return kept
    }

    // MARK: down

    /// `docker-compose down -v` (every container, the network and the volumes), the dockerd it started, the state.
    /// Returns what is left (checked while the engine still answers, then the engine and the state): empty when nothing.
    /// Safe to run twice.
    @discardableResult
    public func down() async throws -> [String] {
        guard geteuid() == 0 else { throw EnvironmentError.notRoot }
        return await teardown(stopEngine: config.startedEngine || engine.startedByUs)
    }

    @discardableResult
    func teardown(stopEngine: Bool) async -> [String] {
        var left: [String] = []
        if await engine.answers() {
            if !FileManager.default.fileExists(atPath: config.envFile) {
                try? FileManager.default.createDirectory(atPath: config.stateDir, withIntermediateDirectories: true)
                try? Data(config.envFileText.utf8).write(to: URL(fileURLWithPath: config.envFile))
            }
            _ = try? await compose(["down", "-v", "--remove-orphans", "-t", "5"], check: false, timeout: .seconds(120))
            left += (try? await dockerLeftovers()) ?? ["(docker could not be asked)"]
        }
        if stopEngine { await engine.stopIfStarted() }
        if engine.startedByUs { left.append("dockerd (pid \(engine.daemons.pid("dockerd") ?? 0)) started by faultline") }
        try? FileManager.default.removeItem(atPath: config.stateDir)
        if FileManager.default.fileExists(atPath: config.stateDir) { left.append("state dir \(config.stateDir)") }
        return left
    }
}
