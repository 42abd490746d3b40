import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How to start one long-running process of an environment.
public struct DaemonSpec: Sendable, Equatable {
    /// Unique name within the environment, e.g. "n1-patroni"; names the pid and log files.
    public var name: String
    /// Network namespace to run in (`/run/netns/<name>`), or nil for the host's.
    public var netns: String?
    /// System user to run as (via setpriv), or nil for root.
    public var user: String?
    /// Extra environment variables.
    public var environment: [String: String]
    public var argv: [String]

    public init(name: String, netns: String? = nil, user: String? = nil, environment: [String: String] = [:], argv: [String]) {
        self.name = name
        self.netns = netns
        self.user = user
        self.environment = environment
        self.argv = argv
    }

    /// The full command line: setsid'd shell that records its pid, then execs through nsenter and setpriv,
    /// so the recorded pid is the daemon's own.
    public func launchArgv(pidFile: String, logFile: String) -> [String] {
        var inner: [String] = []
        if let ns = netns { inner += ["/usr/bin/nsenter", "--net=/run/netns/\(ns)"] }
        if let u = user { inner += ["/usr/bin/setpriv", "--reuid=\(u)", "--regid=\(u)", "--init-groups", "--"] }
        if !environment.isEmpty {
            inner += ["/usr/bin/env"] + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        }
        inner += argv
        let script = #"echo $$ > "$1"; log="$2"; shift 2; exec "$@" >>"$log" 2>&1 </dev/null"#
        return ["/usr/bin/setsid", "-f", "/bin/sh", "-c", script, "faultline-launch", pidFile, logFile] + inner
    }
}

/// Starts, inspects and stops daemons by pid files in a state directory. Never by name or process group.
public struct Daemons: Sendable {
    public var runner: CommandRunner
    public var pidDir: URL
    public var logDir: URL

    public init(runner: CommandRunner, pidDir: URL, logDir: URL) {
        self.runner = runner
        self.pidDir = pidDir
        self.logDir = logDir
    }

    public func pidFile(_ name: String) -> URL { pidDir.appendingPathComponent("\(name).pid") }
    public func logFile(_ name: String) -> URL { logDir.appendingPathComponent("\(name).log") }

    /// Starts `spec` detached and returns its pid once recorded.
    @discardableResult
    public func start(_ spec: DaemonSpec) async throws -> Int32 {
        let pf = pidFile(spec.name)
        try? FileManager.default.removeItem(at: pf)
        try await runner.run(spec.launchArgv(pidFile: pf.path, logFile: logFile(spec.name).path))
        let deadline = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < deadline {
            if let pid = self.pid(spec.name) {
                // The process's start time beside its pid: a later process that reuses the pid is not this daemon.
                if let t = Self.startTime(pid) { try? "\(pid) \(t)\n".write(to: pf, atomically: true, encoding: .utf8) }
                return pid
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw EnvironmentError.unhealthy("\(spec.name) did not record its pid")
    }

    /// The recorded pid of `name`, if any (alive or not).
    public func pid(_ name: String) -> Int32? { record(name)?.pid }

    /// The pid file: `<pid>` as the launch shell writes it, `<pid> <start time>` once `start` has read the start time.
    func record(_ name: String) -> (pid: Int32, start: UInt64?)? {
        guard let s = try? String(contentsOf: pidFile(name), encoding: .utf8) else { return nil }
        let fields = s.split(whereSeparator: \.isWhitespace)
        guard let first = fields.first, let pid = Int32(first) else { return nil }
        return (pid, fields.dropFirst().first.flatMap { UInt64($0) })
    }

    /// `name`'s pid while that daemon runs: a live (not zombie) process, started when the pid file says. A pid that
    /// another process has taken since (ids wrap: `pid_max` is 32768 here) is not `name`, and is never signalled.
    public func livePid(_ name: String) -> Int32? {
        guard let r = record(name), Self.isAlive(r.pid) else { return nil }
        if let start = r.start, Self.startTime(r.pid) != start { return nil }
        return r.pid
    }

    /// Whether `name` has a live (not zombie) process, the one it started.
    public func isRunning(_ name: String) -> Bool { livePid(name) != nil }

    /// When `pid` started, in clock ticks after boot (`/proc/<pid>/stat` field 22); nil when there is no such process.
    public static func startTime(_ pid: Int32) -> UInt64? {
        // Field 3 (the state) first, so field 22 is the 20th.
        guard let rest = statFields(pid), rest.count > 19 else { return nil }
        return UInt64(rest[19])
    }

    /// `/proc/<pid>/stat` from field 3 on (after the parenthesised command name, which may hold spaces); nil when
    /// there is no such process.
    static func statFields(_ pid: Int32) -> [Substring]? {
        guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// Whether `pid` is a live process (not a zombie) other than this one.
    ///
    /// Only a process's own id counts, never a thread's: with `pid_max` 32768 (this machine's) ids wrap within a CI
    /// run, so a dead daemon's recorded pid can come back as a thread id, /proc/<tid> exists, and `kill(tid)`
    /// signals that thread's whole process. Once that was the harness itself: a CI run's test process died without
    /// a word in the middle of a failed bring-up's teardown. A process reusing the id is told apart by its start time
    /// (`livePid`), which `start` records.
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid != getpid(), let rest = statFields(pid) else { return false }
        // Field 3: the state.
        guard rest.first.map({ $0 != "Z" && $0 != "X" }) ?? false else { return false }
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let tgid = status.split(separator: "\n").first(where: { $0.hasPrefix("Tgid:") }) else { return false }
        return Int32(tgid.dropFirst("Tgid:".count).trimmingCharacters(in: .whitespaces)) == pid
    }

    /// Sends `signal` to `name`'s pid, waits up to `grace` for it to exit, then SIGKILLs it.
    /// A pid another process has taken since is left alone.
    public func stop(_ name: String, signal: Int32 = SIGTERM, grace: Duration = .seconds(10)) async {
        if let p = livePid(name) { await Self.terminate(pid: p, signal: signal, grace: grace) }
        try? FileManager.default.removeItem(at: pidFile(name))
    }

    /// Signals `pid`, waits up to `grace`, then SIGKILLs it.
    public static func terminate(pid p: Int32, signal: Int32 = SIGTERM, grace: Duration = .seconds(10)) async {
        guard isAlive(p) else { return }
        kill(p, signal)
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            if !isAlive(p) { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
        kill(p, SIGKILL)
        let hard = ContinuousClock.now + .seconds(2)
        while isAlive(p) && ContinuousClock.now < hard { try? await Task.sleep(for: .milliseconds(20)) }
    }
}
