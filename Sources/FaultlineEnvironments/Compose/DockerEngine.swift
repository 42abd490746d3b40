import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The Docker engine as the compose environment uses it: dockerd started when none answers (and only that one
/// stopped again), `debian:bookworm` built with debootstrap when it cannot be pulled, and the environment's image
/// built once per content hash of its context. Every command goes through the `CommandRunner` (the command log).
public struct DockerEngine: Sendable {
    public let runner: CommandRunner
    /// Where the pid file and log of a dockerd this engine started live (the compose state's `engine/`).
    public let daemons: Daemons
    /// The client that matches Debian's dockerd (20.10); the machine may also have a newer one on PATH.
    public var docker: String {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/docker") ? "/usr/bin/docker" : "docker"
    }
    public static let dockerd = "/usr/sbin/dockerd"
    /// Build logs: outside the state directory, so a failed bring-up's teardown keeps them.
    public static let buildLogDir = "/tmp/faultline-compose-build"

    public init(runner: CommandRunner, engineDir: String) {
        self.runner = runner
        let dir = URL(fileURLWithPath: engineDir)
        self.daemons = Daemons(runner: runner, pidDir: dir, logDir: dir)
    }

    /// The dockerd this engine starts: no iptables rules and no docker0 (the compose network is a user-defined
    /// bridge the host reaches directly; builds use the host's network), so the host's FORWARD policy is never
    /// set to DROP and stopping it leaves no rule behind.
    public static let dockerdArgv = [dockerd, "--iptables=false", "--ip-masq=false", "--bridge=none", "--log-level=warn"]
    /// The command line `ensureRunning` starts (a test gives a bad one to see the refusal).
    public var startArgv: [String] = DockerEngine.dockerdArgv

    /// Whether a dockerd answers on the default socket.
    public func answers() async -> Bool {
        (try? await runner.run([docker, "version", "--format", "{{.Server.Version}}"], check: false, timeout: .seconds(10)))?.succeeded ?? false
    }

    /// Whether this engine's record says it started the dockerd that runs now.
    public var startedByUs: Bool { daemons.isRunning("dockerd") }

    /// Starts dockerd when none answers; returns whether it started one. Exit 4 with how to mend it when it cannot.
    public func ensureRunning(timeout: Duration = .seconds(30)) async throws -> Bool {
        if await answers() { return false }
        guard let exe = startArgv.first, FileManager.default.isExecutableFile(atPath: exe) else {
            throw EnvironmentError.engineUnavailable("\(startArgv.first ?? Self.dockerd) is not installed; run scripts/setup (it installs docker.io)")
        }
        try FileManager.default.createDirectory(at: daemons.pidDir, withIntermediateDirectories: true)
        try await daemons.start(DaemonSpec(name: "dockerd", argv: startArgv))
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await answers() { return true }
            guard daemons.isRunning("dockerd") else { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        let log = daemons.logFile("dockerd").path
        let last = (try? String(contentsOfFile: log, encoding: .utf8)).flatMap { $0.split(whereSeparator: \.isNewline).last.map(String.init) } ?? ""
        await daemons.stop("dockerd")
        let kept = Self.keep(log, as: "dockerd.log")
        throw EnvironmentError.engineUnavailable("dockerd did not start\(last.isEmpty ? "" : " (\(Secrets.mask(last)))"); its log: \(kept); "
            + "check that no other dockerd holds /var/run/docker.sock and that the kernel has overlay and cgroups, or start dockerd yourself")
    }

    /// Stops the dockerd this engine started (SIGTERM: it stops its containerd too); a dockerd it did not start is left alone.
    public func stopIfStarted() async {
        guard startedByUs else { return }
        await daemons.stop("dockerd", signal: SIGTERM, grace: .seconds(20))
    }

    // MARK: images

    /// `debian:bookworm`, pulled or, where no registry answers, built with `debootstrap --variant=minbase` and `docker import`.
    /// Returns what it did ("present", "pulled", "debootstrapped").
    @discardableResult
    public func ensureBaseImage(_ name: String = "debian:bookworm", scratch: String) async throws -> String {
        if try await runner.run([docker, "image", "inspect", name], check: false, timeout: .seconds(20)).succeeded { return "present" }
        if (try? await runner.run([docker, "pull", name], check: false, timeout: .seconds(60)))?.succeeded == true { return "pulled" }
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/debootstrap") else {
            throw EnvironmentError.requirementMissing("/usr/sbin/debootstrap (\(name) cannot be pulled here)")
        }
        let root = "\(scratch)/rootfs"
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let suite = name.split(separator: ":").last.map(String.init) ?? "bookworm"
        let r = try await runner.run(["/usr/sbin/debootstrap", "--variant=minbase", suite, root], check: false, timeout: .seconds(600))
        if !r.succeeded {
            let log = Self.writeLog("debootstrap.log", r.stdout + r.stderr)
            throw EnvironmentError.imageBuildFailed(image: name, step: "debootstrap --variant=minbase \(suite)", log: log)
        }
        try await runner.run(["/bin/sh", "-c", "tar -C \(CommandRunner.quote(root)) -c . | \(docker) import - \(name)"], timeout: .seconds(300))
        return "debootstrapped"
    }

    /// The environment's image for the build context `dir`: reused when an image with its content hash exists, else
    /// built (classic builder, the host's network, the host's CA bundle in the context). Returns the tag and whether it built.
    public func ensureImage(context dir: String, caBundle: String = "/etc/ssl/certs/ca-certificates.crt") async throws -> (tag: String, built: Bool) {
        guard FileManager.default.fileExists(atPath: caBundle) else { throw EnvironmentError.requirementMissing("\(caBundle) (pip in the image needs it)") }
        var files = try ComposeImages.files(under: dir)
        files.append(("ca-certificates.crt", Array(try Data(contentsOf: URL(fileURLWithPath: caBundle)))))
        let hash = ComposeImages.contextHash(files)
        let tag = ComposeImages.tag(hash: hash)
        if try await runner.run([docker, "image", "inspect", tag], check: false, timeout: .seconds(20)).succeeded { return (tag, false) }
        let ctx = "\(Self.buildLogDir)/context"
        let fm = FileManager.default
        try? fm.removeItem(atPath: ctx)
        try fm.createDirectory(atPath: ctx, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: ctx) }
        for f in files {
            let path = "\(ctx)/\(f.path)"
            try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(f.bytes).write(to: URL(fileURLWithPath: path))
        }
        let r = try await runner.run(["/usr/bin/env", "DOCKER_BUILDKIT=0", docker, "build", "--force-rm", "--network", "host", "--label",
                                      "\(ComposeImages.hashLabel)=\(hash)", "-t", tag, ctx], check: false, timeout: .seconds(1200))
        let log = Self.writeLog("\(ComposeImages.repository.replacingOccurrences(of: "/", with: "-")).log", r.stdout + r.stderr)
        guard r.succeeded else {
            throw EnvironmentError.imageBuildFailed(image: tag, step: ComposeImages.failingStep(in: r.stdout) ?? "before the first step", log: log)
        }
        return (tag, true)
    }

    static func writeLog(_ name: String, _ text: String) -> String {
        try? FileManager.default.createDirectory(atPath: buildLogDir, withIntermediateDirectories: true)
        let path = "\(buildLogDir)/\(name)"
        try? Data(Secrets.mask(text).utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func keep(_ file: String, as name: String) -> String {
        writeLog(name, (try? String(contentsOfFile: file, encoding: .utf8)) ?? "")
    }
}
