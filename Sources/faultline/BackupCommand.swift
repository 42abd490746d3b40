import ArgumentParser
import Faultline
import FaultlineEnvironments
import Foundation

/// `faultline backup run | list | restore | metrics | schedule`: pgBackRest backups of the environment's repositories.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Take, list and watch pgBackRest backups of the environment (repositories 1 and 2).",
        discussion: "Exit codes: 0 done; 2 bad input; 3 pgBackRest or the environment failed; 6 the environment is not up.",
        subcommands: [Run.self, List.self, Restore.self, Metrics.self, Schedule.self]
    )

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take one backup on the primary and print it.")
        @OptionGroup var common: EnvOptions
        @Option(help: "Backup type: full, diff or incr.") var type: String = "full"
        @Option(help: "Repository: 1 or 2.") var repo: Int
        @Flag(help: "Print the new backup as JSON.") var json = false

        func validate() throws {
            _ = try backupType(type)
            try checkRepo(repo)
        }

        func run() async throws {
            try await backupGuarded(common) {
                let made = try await localEnvironment(common).runBackup(type: try backupType(type), repo: repo)
                if json { try printJSON(made) } else {
                    print("repository \(made.repo): \(made.type.rawValue) backup \(made.label) in \(made.durationSeconds) s, WAL \(made.walStart ?? "?")..\(made.walStop ?? "?")")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Backups of every repository (or one), with their WAL range and age.")
        @OptionGroup var common: EnvOptions
        @Option(help: "Only this repository: 1 or 2.") var repo: Int?
        @Flag(help: "Print JSON (sorted keys) instead of tables.") var json = false

        func validate() throws { if let repo { try checkRepo(repo) } }

        func run() async throws {
            try await backupGuarded(common) {
                let listing = BackupListing(try await localEnvironment(common).backupInfo(), now: Date(), repo: repo)
                let text = json ? listing.json() : listing.text()
                print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore the cluster from a repository, to a point in time or to the end of the archive.",
            discussion: """
                The first node restores (pgBackRest, through Patroni's custom bootstrap), replays and is promoted; the others are
                rebuilt from it. A cluster that is up is replaced only with --force, and only after a pre-check has shown that the
                repository holds a backup and every WAL segment since it. Refused with exit 2 and nothing changed: a target in the
                future or before the oldest backup, an unknown repository, a cluster that is up without --force.
                """)
        @OptionGroup var common: EnvOptions
        @Option(help: "Target time, UTC: '2026-12-01 18:41:41.836573+00' or 2026-12-01T18:41:41Z (default: the end of the archive).")
        var target: String?
        @Option(help: "Repository: 1 or 2.") var repo: Int = 1
        @Flag(help: "Replace a cluster that is up (after the pre-check).") var force = false

        func validate() throws {
            try checkRepo(repo)
            if let target, EpochTime.milliseconds(iso: target) == nil {
                throw ValidationError("--target '\(target)': expected a UTC time such as '2026-12-01 18:41:41+00' or 2026-12-01T18:41:41Z")
            }
        }

        func run() async throws {
            try await backupGuarded(common) {
                let env = try localEnvironment(common)
                let t = target.flatMap(EpochTime.milliseconds(iso:))
                if let why = RestoreRequest.refusal(targetEpochMs: t, nowEpochMs: Date().timeIntervalSince1970 * 1000,
                                                    catalog: try await env.backupInfo(), repo: repo) {
                    FileHandle.standardError.write(Data("faultline: backup restore: \(why)\n".utf8))
                    throw ExitCode(2)
                }
                let outcome = try await env.restoreCommand(targetTime: t.map { EpochTime.iso(milliseconds: $0) }, repo: repo, force: force)
                print(outcome.detail)
            }
        }
    }

    struct Metrics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the backup metrics in Prometheus' text format.",
            discussion: "When pgbackrest info fails, prints faultline_backup_info_success 0 (and exits 0), so the alert sees it.")
        @OptionGroup var common: EnvOptions
        @Flag(help: "Write them to the file Prometheus scrapes (node_exporter's textfile directory) instead of printing.")
        var write = false

        func run() async throws {
            try await backupGuarded(common) {
                let env = try localEnvironment(common)
                if write {
                    await env.writeBackupMetrics()
                    print("\(env.config.backupMetricsDir)/faultline_backup.prom")
                    return
                }
                let catalog = try? await env.backupInfo()
                print(BackupMetrics.exposition(catalog, now: Date()), terminator: "")
            }
        }
    }

    struct Schedule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the backup schedule as systemd units and a crontab into a directory (installs nothing).")
        @OptionGroup var common: EnvOptions
        @Option(help: "Directory to write the files into (created if missing).") var output: String
        @Option(help: "The faultline binary the units run (default: this one).") var faultline: String?

        func run() async throws {
            try await backupGuarded(common) {
                let driver = try common.driver()
                let exe = faultline ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
                let s = BackupSchedule(faultline: exe, environment: driver.name, stateDir: driver.stateDir)
                try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
                for (name, text) in s.units.sorted(by: { $0.key < $1.key }) + [("crontab", s.crontab)] {
                    try Data(text.utf8).write(to: URL(fileURLWithPath: output).appendingPathComponent(name))
                    print("\(output)/\(name)")
                }
            }
        }
    }
}

func backupType(_ s: String) throws -> BackupType {
    guard let t = BackupType(rawValue: s) else { throw ValidationError("--type '\(s)': expected full, diff or incr") }
    return t
}

func checkRepo(_ repo: Int) throws {
    do { try BackupRepositories.check(repo) } catch { throw ValidationError("--repo: \(BackupRepositories.unknown(repo))") }
}

/// The running local environment (backups are implemented for it only).
func localEnvironment(_ common: EnvOptions) throws -> LocalEnvironment {
    let driver = try common.driver()
    guard let local = driver as? LocalDriver else {
        throw ValidationError("--environment \(driver.name): backups and restores are built for the local environment only "
                              + "(pgBackRest does not run inside the \(driver.name) containers); use --environment local")
    }
    guard let env = local.existing() else { throw EnvironmentError.notUp(driver.name) }
    return env
}

/// `EnvOptions.guarded`, plus any other failure (a pgBackRest answer not understood) as one line and exit 3.
func backupGuarded(_ common: EnvOptions, _ body: () async throws -> Void) async throws {
    try await common.guarded {
        do { try await body() } catch let e as EnvironmentError { throw e } catch let e as ValidationError { throw e } catch let e as ExitCode {
            throw e
        } catch {
            FileHandle.standardError.write(Data("faultline: backup: \(describe(error))\n".utf8))
            throw ExitCode(3)
        }
    }
}
