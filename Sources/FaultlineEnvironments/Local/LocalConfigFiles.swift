import Foundation

/// The environment's config files, rendered from the templates in environments/local/.
extension LocalEnvironment {
    // MARK: configs

    func template(_ name: String) throws -> Template {
        let path = "\(config.home)/environments/local/\(name).tmpl"
        return Template(try String(contentsOfFile: path, encoding: .utf8), name: name)
    }

    /// The etcd client endpoints Patroni on node `n` is given: every member, or only its own (`local`).
    func etcdHosts(node n: String?) -> String {
        let members = config.dcsEndpoints == "local" && n != nil ? [n!] : config.nodeNames
        return members.map { "\(config.nodeIP($0)):2379" }.joined(separator: ",")
    }

    /// The values every template of node `n` may use.
    func values(node n: String?, secrets: SecretSet) -> [String: String] {
        var v: [String: String] = [
            "SUBNET": config.subnet, "CLIENT_IP": config.clientIP, "STATE_DIR": config.stateDir,
            "DCS_API": config.dcsAPI, "TTL": "\(config.ttl)", "LOOP_WAIT": "\(config.loopWait)",
            "RETRY_TIMEOUT": "\(config.retryTimeout)", "SYNC_STRICT": config.syncStrict ? "true" : "false",
            "ETCD_HOSTS": etcdHosts(node: n),
            "DCS_USE_PROXIES": config.dcsEndpoints == "local" && n != nil ? "true" : "false",
            "ETCD_CLUSTER": config.nodeNames.map { "\($0)=http://\(config.nodeIP($0)):2380" }.joined(separator: ","),
            "SUPERUSER_PASSWORD": secrets.superuser, "REPLICATION_PASSWORD": secrets.replication,
            "REWIND_PASSWORD": secrets.rewind,
            "INTER": config.haproxyInter, "FASTINTER": config.haproxyFastInter, "DOWNINTER": config.haproxyDownInter,
            "FALL": "\(config.haproxyFall)", "RISE": "\(config.haproxyRise)",
        ]
        let servers = config.nodeNames.map { "    server \($0) \(config.nodeIP($0)):5432 check port 8008" }.joined(separator: "\n")
        v["SERVERS_RW"] = servers
        v["SERVERS_RO"] = servers
        if let n {
            v["NODE"] = n
            v["NODE_IP"] = config.nodeIP(n)
            v["NODE_DIR"] = config.nodeDir(n)
            v["DATA_DIR"] = config.dataDir(n)
            v["SOCKET_DIR"] = config.socketDir(n)
            v["ETCD_DIR"] = config.etcdDir(n)
            v.merge(archivingValues(node: n, secrets: secrets)) { a, _ in a }
        }
        return v
    }

    func renderConfigs(secrets: SecretSet) throws {
        for n in config.nodeNames {
            let v = values(node: n, secrets: secrets)
            try writePrivate("\(config.nodeDir(n))/patroni.yml", try template("patroni.yml").render(v), owner: "postgres")
            try writePrivate("\(config.nodeDir(n))/etcd.conf.yml", try template("etcd.conf.yml").render(v), owner: "etcd")
            try writePrivate(config.pgbackrestConfig(n), try template("pgbackrest.conf").render(v), owner: "postgres")
        }
        let v = values(node: nil, secrets: secrets)
        try writePrivate("\(config.stateDir)/haproxy.cfg", try template("haproxy.cfg").render(v), owner: "root")
        try writePrivate("\(config.stateDir)/pgbouncer/pgbouncer.ini", try template("pgbouncer.ini").render(v), owner: "postgres")
    }
}
