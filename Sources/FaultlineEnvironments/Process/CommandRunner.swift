import Faultline
import Foundation
import Logging
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// The outcome of one finished command.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var succeeded: Bool { status == 0 }
}

/// Runs external commands with bounded output and time, and logs every command line (secrets masked)
/// to the logger and to an optional commands log file.
public struct CommandRunner: Sendable {
    public var logger: Logger
    /// Appends each command line here (masked), for `commands.log` in reports.
    public var commandLog: CommandLog?
    /// Output captured from each stream, at most.
    public var outputLimit: Int = 1 << 20
    /// Past `timeout` (or on cancellation) the process gets SIGTERM, this long to exit, then SIGKILL.
    public var terminationGrace: Duration = .seconds(2)

    public init(logger: Logger, commandLog: CommandLog? = nil) {
        self.logger = logger
        self.commandLog = commandLog
    }

    /// Runs `argv` and returns its result; throws `EnvironmentError.commandFailed` on a non-zero exit
    /// unless `check` is false. `timeout` bounds the run; past it the process is stopped (SIGTERM, then
    /// SIGKILL after `terminationGrace`).
    @discardableResult
    public func run(_ argv: [String], check: Bool = true, timeout: Duration = .seconds(60),
                    stdin: String? = nil) async throws -> CommandResult {
        precondition(!argv.isEmpty)
        let line = Secrets.mask(argv.map(Self.quote).joined(separator: " "))
        logger.debug("run", metadata: ["cmd": "\(line)"])
        commandLog?.append(line)
        let exe: Executable = argv[0].hasPrefix("/") ? .path(FilePath(argv[0])) : .name(argv[0])
        let args = Arguments(Array(argv.dropFirst()))
        let limit = outputLimit
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: terminationGrace)]
        let platform = options
        let result: CommandResult = try await withThrowingTaskGroup(of: CommandResult?.self) { group in
            group.addTask {
                let r: ExecutionResult<Void, StringOutput<UTF8>, StringOutput<UTF8>>
                if let stdin {
                    r = try await Subprocess.run(exe, arguments: args, platformOptions: platform, input: .string(stdin),
                                                 output: .string(limit: limit), error: .string(limit: limit))
                } else {
                    r = try await Subprocess.run(exe, arguments: args, platformOptions: platform, output: .string(limit: limit),
                                                 error: .string(limit: limit))
                }
                let status: Int32
                switch r.terminationStatus {
                case .exited(let c): status = c
                case .signaled(let s): status = 128 + s
                }
                return CommandResult(status: status, stdout: r.standardOutput, stderr: r.standardError)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            guard let first = try await group.next() else { throw EnvironmentError.commandTimedOut(line, timeout) }
            group.cancelAll()
            guard let r = first else { throw EnvironmentError.commandTimedOut(line, timeout) }
            return r
        }
        if check && !result.succeeded {
            throw EnvironmentError.commandFailed(line, result.status, Secrets.mask(Self.lastLine(result.stderr.isEmpty ? result.stdout : result.stderr)))
        }
        return result
    }

    static func quote(_ s: String) -> String {
        if s.isEmpty { return "''" }
        let safe = s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_./=:,@%+".unicodeScalars.contains($0) }
        return safe ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    static func lastLine(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
    }
}

/// An append-only, thread-safe log of command lines.
public final class CommandLog: @unchecked Sendable {
    private let lock = NSLock()
    private let url: URL

    public init(url: URL) { self.url = url }

    public func append(_ line: String) {
        lock.lock(); defer { lock.unlock() }
        let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        let data = Data("\(stamp) \(Secrets.mask(line))\n".utf8)
        if let h = try? FileHandle(forWritingTo: url) {
            defer { try? h.close() }
            _ = try? h.seekToEnd()
            try? h.write(contentsOf: data)
        } else {
            try? data.write(to: url)
        }
    }
}

/// Masks secrets in text that may reach a log or report: the core's `SecretMasker`, under the name
/// this module's callers use.
public enum Secrets {
    public static func mask(_ s: String) -> String { SecretMasker.mask(s) }
}
