import Foundation

/// The pure parts of the image builds: a build context's content hash (the image's tag, so a changed Dockerfile or
/// file in its context builds a new image and an unchanged one is reused), and the failing step of a build's output.
public enum ComposeImages {
    /// The repository of the environment's image; its tag is the context's hash.
    public static let repository = "faultline/node"
    /// The label that carries the full hash on every image faultline builds.
    public static let hashLabel = "org.faultline.context-hash"

    /// SHA-256 over every file of the context, in path order: each file's relative path, a NUL, its size, a NUL and
    /// its bytes. The host's CA bundle is part of the context (pip in the image trusts it), so it counts too.
    public static func contextHash(_ files: [(path: String, bytes: [UInt8])]) -> String {
        var all: [UInt8] = []
        for f in files.sorted(by: { $0.path < $1.path }) {
            all += Array(f.path.utf8) + [0] + Array(String(f.bytes.count).utf8) + [0] + f.bytes
        }
        return SHA256.hex(all)
    }

    /// The image's full name for a context hash: `faultline/node:<first 16 hex digits>`.
    public static func tag(hash: String) -> String { "\(repository):\(hash.prefix(16))" }

    /// The step a classic `docker build` was running when it failed: its last `Step N/M : ...` line.
    public static func failingStep(in output: String) -> String? {
        output.split(whereSeparator: \.isNewline).last { $0.hasPrefix("Step ") }.map { String($0) }
    }

    /// Every regular file under `dir` (relative paths, sorted), with its bytes.
    public static func files(under dir: String) throws -> [(path: String, bytes: [UInt8])] {
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: dir) else { throw EnvironmentError.requirementMissing(dir) }
        var out: [(path: String, bytes: [UInt8])] = []
        while let rel = e.nextObject() as? String {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: "\(dir)/\(rel)", isDirectory: &isDir), !isDir.boolValue else { continue }
            out.append((rel, Array(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(rel)")))))
        }
        return out.sorted { $0.path < $1.path }
    }
}
