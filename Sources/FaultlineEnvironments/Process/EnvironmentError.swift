/// Failures of an environment driver. `description` is one line and never holds a secret.
/// `exitCode` follows the CLI convention: 2 bad input, 3 harness/environment error, 4–6 refusals, 8 a
/// subnet or name already taken by something else.
public enum EnvironmentError: Error, CustomStringConvertible, Equatable {
    case notRoot
    case requirementMissing(String)
    case alreadyUp(String)
    case notUp(String)
    case badConfig(String)
    case commandFailed(String, Int32, String)
    case commandTimedOut(String, Duration)
    case unhealthy(String)
    case daemonExited(String)
    /// A bring-up that failed in `phase` on its last of `attempts` tries; everything was torn down
    /// (`leftovers` lists what could not be removed).
    case bringUpFailed(phase: String, attempts: Int, reason: String, leftovers: [String])
    /// The container engine (dockerd) is not there and could not be started; says how to mend it.
    case engineUnavailable(String)
    /// An image build failed in `step`; its full output is in `log`.
    case imageBuildFailed(image: String, step: String, log: String)
    /// Something the environment needs for itself is taken by something else (a subnet, a container name): exit 8,
    /// refused before anything is built; says what holds it and how to mend it.
    case inUse(String)

    public var description: String {
        switch self {
        case .notRoot:
            return "faultline env must run as root (it creates namespaces and mounts); run it with sudo"
        case .requirementMissing(let what):
            return "requirement missing: \(what); run scripts/setup"
        case .alreadyUp(let env):
            return "the \(env) environment is already up; use 'faultline env status', or 'faultline env down' first"
        case .notUp(let env):
            return "the \(env) environment is not up; run 'faultline env up' first"
        case .badConfig(let why):
            return "bad configuration: \(why)"
        case .commandFailed(let cmd, let status, let err):
            return "command failed (exit \(status)): \(cmd)\(err.isEmpty ? "" : ": \(err)")"
        case .commandTimedOut(let cmd, let t):
            return "command timed out after \(t): \(cmd)"
        case .unhealthy(let why):
            return "environment unhealthy: \(why)"
        case .daemonExited(let why):
            return "daemon exited: \(why)"
        case .bringUpFailed(let phase, let attempts, let reason, let left):
            return "env up failed in phase '\(phase)' (\(attempts == 1 ? "1 attempt" : "\(attempts) attempts")): \(reason); "
                + (left.isEmpty ? "torn down, nothing left behind" : "left behind: \(left.joined(separator: ", "))")
        case .engineUnavailable(let why):
            return "no Docker engine: \(why)"
        case .imageBuildFailed(let image, let step, let log):
            return "image \(image) did not build: failed at \(step); its log: \(log)"
        case .inUse(let why):
            return "already in use: \(why)"
        }
    }

    /// The process exit code the CLI should use.
    public var exitCode: Int32 {
        switch self {
        case .badConfig: return 2
        case .requirementMissing, .engineUnavailable: return 4
        case .notRoot: return 5
        case .alreadyUp, .notUp: return 6
        case .inUse: return 8
        case .commandFailed, .commandTimedOut, .unhealthy, .daemonExited, .bringUpFailed, .imageBuildFailed: return 3
        }
    }
}
