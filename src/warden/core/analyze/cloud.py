"""Cloud, infrastructure, container and database clients: reads, changes, deletes, wipes.

Facts: ``cloud.read`` (informational), ``cloud.mutate`` (changes infrastructure),
``cloud.delete`` (removes a resource), ``cloud.destroy`` (bulk or irreversible: a bucket with
its contents, a namespace, a project, ``terraform destroy``), ``cloud.exec`` (runs commands
in a container or pod), ``container.privileged`` / ``container.host_mount`` (a container
that owns the host), ``db.connect`` and ``db.destroy`` (DROP, TRUNCATE, unfiltered DELETE,
FLUSHALL), and ``secret.read`` for commands that print credentials.
"""

from __future__ import annotations

from warden.core.analyze.invocation import NET, Cmd, Flow
from warden.core.facts import Access

READ_VERBS = ("describe", "list", "get", "head", "ls", "wait", "help", "show", "lookup", "search", "check", "validate",
              "estimate", "preview", "batch-get", "view", "status", "version", "info", "logs", "top", "explain",
              "whoami", "get-caller-identity", "print", "tail", "history", "inspect", "diff", "plan", "output",
              "graph", "providers", "fmt", "template", "lint", "test", "api-resources", "api-versions",
              "cluster-info", "can-i", "events", "read", "query", "scan")
DELETE_WORDS = ("delete", "remove", "rm", "rb", "terminate", "destroy", "purge", "deregister", "uninstall", "drop",
                "prune", "rmi", "erase", "wipe", "deprovision", "release", "revoke", "disable", "stop")
SECRET_OPS = {("secretsmanager", "get-secret-value"), ("ssm", "get-parameter"), ("ssm", "get-parameters"),
              ("ssm", "get-parameters-by-path"), ("kms", "decrypt"), ("configure", "get"),
              ("configure", "export-credentials"), ("sts", "get-session-token"), ("iam", "create-access-key"),
              ("ecr", "get-login-password"), ("ecr", "get-authorization-token"), ("codeartifact", "get-authorization-token"),
              ("sts", "assume-role"), ("sso", "get-role-credentials"), ("lightsail", "get-instance-access-details")}


def _positional(args: list[str], value_opts: tuple[str, ...] = ()) -> list[str]:
    out, i = [], 0
    while i < len(args):
        a = args[i]
        if a.startswith("-"):
            i += 2 if (a in value_opts and "=" not in a) else 1
            continue
        out.append(a)
        i += 1
    return out


def _verb_kind(verb: str) -> str:
    v = verb.lower()
    if v.startswith(READ_VERBS) or v in READ_VERBS:
        return "read"
    if any(v.startswith(w) or f"-{w}" in v for w in DELETE_WORDS):
        return "delete"
    return "mutate"


def _emit(cmd: Cmd, kind: str, what: str) -> None:
    if kind == "read":
        cmd.fact("cloud.read", what)
    elif kind == "delete":
        cmd.fact("cloud.delete", what)
    elif kind == "destroy":
        cmd.fact("cloud.destroy", what)
    else:
        cmd.fact("cloud.mutate", what)


AWS_OPTS = ("--profile", "--region", "--output", "--endpoint-url", "--query", "--cli-input-json", "--color",
            "--ca-bundle", "--cli-read-timeout", "--cli-connect-timeout")


def _aws(cmd: Cmd) -> None:
    pos = _positional(cmd.args, AWS_OPTS)
    if len(pos) < 2:
        return
    service, op = pos[0], pos[1]
    args = cmd.args
    what = f"aws {service} {op}"
    if (service, op) in SECRET_OPS or (service == "ssm" and "--with-decryption" in args and op.startswith("get")):
        if op in ("get-login-password", "get-authorization-token", "assume-role", "get-session-token"):
            cmd.fact("cloud.credentials", f"{what} prints temporary credentials")
        else:
            cmd.fact("secret.read", f"{what} prints a stored secret")
        return
    if service == "s3":
        recursive = "--recursive" in args
        if op == "rb":
            _emit(cmd, "destroy" if "--force" in args else "delete", f"{what}: deletes a bucket")
        elif op == "rm":
            _emit(cmd, "destroy" if recursive else "delete", f"{what}: deletes objects")
        elif op in ("cp", "mv", "sync"):
            local = [p for p in pos[2:] if not p.startswith("s3://")]
            remote = [p for p in pos[2:] if p.startswith("s3://")]
            if remote and local and pos[2:].index(local[0]) < pos[2:].index(remote[-1]):
                cmd.fact("net.upload", f"{what} uploads local files to {remote[-1]}")
                for p in local:
                    cmd.path(p, Access.READ)
            elif local:
                for p in local:
                    cmd.path(p, Access.WRITE)
            if op == "sync" and "--delete" in args:
                _emit(cmd, "delete", f"{what} --delete removes files missing from the source")
            _emit(cmd, "mutate", what)
        else:
            _emit(cmd, _verb_kind(op), what)
        return
    kind = _verb_kind(op)
    if kind == "delete" and (op in ("delete-bucket", "terminate-instances", "delete-table", "delete-cluster",
                                    "delete-stack", "delete-db-cluster", "delete-hosted-zone", "delete-repository",
                                    "schedule-key-deletion", "delete-file-system", "delete-vpc")
                             or "--skip-final-snapshot" in args):
        kind = "destroy"
    _emit(cmd, kind, what)


def _gcloud(cmd: Cmd) -> None:
    pos = _positional(cmd.args, ("--project", "--format", "--region", "--zone", "--account", "--configuration"))
    what = "gcloud " + " ".join(pos[:4])
    joined = " ".join(pos)
    if "print-access-token" in joined or "print-identity-token" in joined or joined.startswith(
            "secrets versions access"):
        cmd.fact("secret.read", f"{what} prints credentials")
        return
    verb = next((p for p in pos if _verb_kind(p) != "mutate"), pos[-1] if pos else "")
    kind = _verb_kind(verb) if verb else "read"
    if kind == "delete" and pos and pos[0] in ("projects", "sql", "container", "storage", "spanner", "bigtable",
                                                "filestore", "redis", "organizations"):
        kind = "destroy"
    if pos[:2] == ["storage", "rm"] and any(a in ("-r", "--recursive") for a in cmd.args):
        kind = "destroy"
    _emit(cmd, kind, what)


def _az(cmd: Cmd) -> None:
    pos = _positional(cmd.args, ("--resource-group", "-g", "--name", "-n", "--subscription", "--output", "-o",
                                 "--query", "--vault-name", "--location", "-l"))
    what = "az " + " ".join(pos[:4])
    joined = " ".join(pos)
    if joined.startswith(("keyvault secret show", "keyvault secret download", "account get-access-token",
                          "ad sp credential reset", "storage account keys list", "acr credential show",
                          "aks get-credentials")):
        cmd.fact("secret.read", f"{what} prints credentials")
        return
    verb = pos[-1] if pos else ""
    kind = _verb_kind(verb)
    if kind == "delete" and pos and pos[0] in ("group", "account", "aks", "sql", "cosmosdb", "storage", "keyvault"):
        kind = "destroy"
    _emit(cmd, kind, what)


KUBE_OPTS = ("-n", "--namespace", "--context", "--kubeconfig", "-o", "--output", "-l", "--selector", "-c",
             "--container", "-f", "--filename", "--cluster", "--user", "-s", "--server", "--as", "-p", "--type")


def _kubectl(cmd: Cmd) -> None:
    args = cmd.args
    pos = _positional(args, KUBE_OPTS)
    if not pos:
        return
    verb = pos[0]
    what = f"{cmd.program} " + " ".join(pos[:3])
    if verb == "exec" or verb == "debug" or verb == "attach":
        cmd.fact("cloud.exec", f"{what}: runs commands in a pod")
        if "--" in args:
            inner = args[args.index("--") + 1:]
            if inner:
                cmd.nested(inner, via=f"{cmd.program} exec")
        return
    if verb == "get" and len(pos) > 1 and pos[1].split("/")[0] in ("secret", "secrets") and any(
            a.startswith(("-o", "--output")) for a in args):
        cmd.fact("secret.read", f"{what} prints secret values")
        return
    if verb == "config" and len(pos) > 1 and pos[1] == "view" and "--raw" in args:
        cmd.fact("secret.read", f"{what} --raw prints cluster credentials")
        return
    if verb == "port-forward" or verb == "proxy":
        cmd.fact("net.tunnel", f"{what} opens a tunnel into the cluster")
        return
    if verb == "cp":
        cmd.fact("cloud.mutate", f"{what} copies files to or from a pod")
        return
    kind = _verb_kind(verb)
    if verb in ("delete",):
        target = pos[1].split("/")[0] if len(pos) > 1 else ""
        if target in ("namespace", "namespaces", "ns", "node", "nodes", "pv", "persistentvolume", "crd",
                      "customresourcedefinition", "clusterrole", "clusterrolebinding") or "--all" in args or \
                "-A" in args or "--all-namespaces" in args:
            kind = "destroy"
    if verb in ("drain", "cordon", "taint"):
        kind = "mutate"
    if verb == "rollout" and len(pos) > 1 and pos[1] in ("status", "history"):
        kind = "read"
    if verb == "config" and len(pos) > 1 and pos[1] in ("view", "get-contexts", "current-context", "get-clusters"):
        kind = "read"
    _emit(cmd, kind, what)


def _helm(cmd: Cmd) -> None:
    pos = _positional(cmd.args, ("-n", "--namespace", "--kube-context", "-f", "--values", "--set", "--version",
                                 "-o", "--output", "--repo"))
    if not pos:
        return
    verb = pos[0]
    what = "helm " + " ".join(pos[:3])
    if verb in ("uninstall", "delete", "del", "un"):
        _emit(cmd, "delete", what)
    elif verb in ("install", "upgrade", "rollback", "push", "repo", "plugin", "registry") and not (
            verb == "repo" and len(pos) > 1 and pos[1] in ("list", "ls")):
        _emit(cmd, "mutate", what)
    else:
        _emit(cmd, "read", what)


def _terraform(cmd: Cmd) -> None:
    pos = _positional(cmd.args, ("-var", "-var-file", "-target", "-chdir", "-out", "-state", "-backend-config"))
    if not pos:
        return
    verb = pos[0]
    what = f"{cmd.program} " + " ".join(pos[:3])
    if verb == "destroy" or (verb in ("apply", "up") and "-destroy" in cmd.args):
        _emit(cmd, "destroy", f"{what}: destroys managed infrastructure")
    elif verb in ("apply", "up", "import", "taint", "untaint", "force-unlock", "refresh", "update", "deploy",
                  "cancel", "rm") or (verb == "state" and len(pos) > 1 and pos[1] in ("rm", "mv", "push", "replace-provider")):
        _emit(cmd, "mutate", what)
    elif verb == "output" or (verb == "state" and len(pos) > 1 and pos[1] == "pull"):
        cmd.fact("cloud.read", f"{what} (may print secrets from state)")
    elif verb == "workspace" and len(pos) > 1 and pos[1] == "delete":
        _emit(cmd, "delete", what)
    elif verb == "stack" and len(pos) > 1 and pos[1] == "rm":
        _emit(cmd, "destroy", what)
    else:
        _emit(cmd, "read", what)


HOST_PATHS_DENY = ("/", "/etc", "/root", "/var/run/docker.sock", "/run/docker.sock", "/var/run", "/run", "/proc",
                   "/sys", "/dev", "/boot", "/usr", "/var", "/home", "/bin", "/sbin", "/lib")


def _docker(cmd: Cmd) -> None:
    args = cmd.args
    pos = _positional(args, ("-v", "--volume", "--mount", "-e", "--env", "-p", "--publish", "--name", "-w",
                             "--workdir", "-u", "--user", "--network", "--net", "--entrypoint", "-f", "--file",
                             "-t", "--tag", "--platform", "--env-file", "--pid", "--ipc", "--cap-add", "-H",
                             "--host", "--context", "--label", "-l", "--restart", "--hostname", "--add-host",
                             "--device", "--security-opt", "--userns", "--uts", "--format", "--filter",
                             "--build-arg", "--target", "-m", "--memory", "--cpus", "--gpus", "--log-driver",
                             "--project-name", "--profile", "-c", "--volumes-from", "--tmpfs", "--link"))
    if not pos:
        return
    verb = pos[0]
    if verb in ("compose", "container", "image", "volume", "network", "system", "buildx", "builder") and len(pos) > 1:
        group, verb = verb, pos[1]
    else:
        group = ""
    what = f"{cmd.program} {group + ' ' if group else ''}{verb}"
    if verb in ("run", "create", "exec", "up", "start") or (group == "compose" and verb in ("run", "exec", "up")):
        _container_flags(cmd, args)
        if verb in ("exec",) or (group == "compose" and verb in ("exec", "run")):
            # local containers: the command inside is analyzed like any other (flags are checked above)
            cmd.fact("container.exec", f"{what}: runs a command in a container")
            inner_start = None
            for i, a in enumerate(args):
                if a == verb:
                    inner_start = i + 1
                    break
            if inner_start is not None:
                rest = args[inner_start:]
                j = 0
                while j < len(rest) and rest[j].startswith("-"):
                    j += 2 if rest[j] in ("-e", "--env", "-u", "--user", "-w", "--workdir") else 1
                if len(rest) > j + 1:
                    cmd.nested(rest[j + 1:], via=f"{cmd.program} exec")
            return
        if verb == "run" and group != "compose":
            cmd.fact("container.run", f"{what}: runs a container image")
        return
    if verb in ("rm", "rmi", "prune", "kill", "down") or (verb == "rm" and group):
        if verb == "down" and not any(a in ("-v", "--volumes", "--rmi") for a in args):
            cmd.fact("cloud.read", what)
            return
        if verb == "prune" and (group == "system" or group == "volume") and any(
                a in ("-a", "--all", "--volumes") for a in args):
            _emit(cmd, "destroy", f"{what}: deletes all unused images, containers and volumes")
            return
        cmd.fact("container.delete", f"{what}: deletes containers, images or volumes")
        return
    if verb == "push":
        cmd.fact("pkg.publish", f"{what}: publishes an image")
        return
    if verb == "login":
        cmd.fact("cloud.credentials", f"{what}: stores registry credentials")
        return
    if verb == "cp":
        for p in pos[1:]:
            if ":" not in p:
                cmd.path(p, Access.WRITE if pos.index(p) == len(pos) - 1 else Access.READ)
        return
    if verb == "build":
        for a in args:
            if a.startswith("--secret"):
                cmd.fact("secret.build", f"{what} passes a secret into the build")
        return


def _container_flags(cmd: Cmd, args: list[str]) -> None:
    for i, a in enumerate(args):
        value = None
        if a in ("-v", "--volume", "--mount") and i + 1 < len(args):
            value = args[i + 1]
        elif a.startswith(("--volume=", "--mount=")) or (a.startswith("-v") and len(a) > 2):
            value = a.split("=", 1)[1] if "=" in a else a[2:]
        if value is not None:
            host = value
            if "source=" in value or "src=" in value:
                host = value.split("source=" if "source=" in value else "src=", 1)[1].split(",", 1)[0]
            else:
                host = value.split(":", 1)[0]
            if host.startswith(("/", "~", ".", "$")):
                refs = cmd.session.resolve(host, Access.READ) or []
                for ref in refs:
                    if ref.path in HOST_PATHS_DENY or ref.path == cmd.session.home:
                        cmd.fact("container.host_mount", f"mounts the host's {ref.path} into a container",
                                 path=ref.path)
                    elif not ref.in_workspace:
                        cmd.path(host, Access.WRITE if not value.endswith(":ro") else Access.READ)
        if a == "--privileged" or a.startswith("--privileged="):
            cmd.fact("container.privileged", "runs a privileged container (full access to the host)")
        if a in ("--pid=host", "--ipc=host", "--userns=host", "--uts=host", "--network=host", "--net=host") or (
                a in ("--pid", "--ipc", "--userns", "--uts") and i + 1 < len(args) and args[i + 1] == "host"):
            cmd.fact("container.privileged", f"{a}: the container shares the host's namespaces")
        if a.startswith("--cap-add") and any(c in (a + " " + (args[i + 1] if i + 1 < len(args) else "")).upper()
                                             for c in ("ALL", "SYS_ADMIN", "SYS_PTRACE", "SYS_MODULE", "DAC_READ")):
            cmd.fact("container.privileged", "adds powerful capabilities to a container")
        if a.startswith("--device") or (a.startswith("--security-opt") and "unconfined" in (
                a + (args[i + 1] if i + 1 < len(args) else ""))):
            cmd.fact("container.privileged", f"{a}: weakens container isolation")


DB_DESTROY = ("DROP DATABASE", "DROP SCHEMA", "DROP TABLE", "DROP USER", "DROP OWNED", "TRUNCATE ", "FLUSHALL",
              "FLUSHDB", "DROPDATABASE(", ".DROP(", "DROP KEYSPACE", "DROP COLLECTION", "DELETEMANY({})",
              ".REMOVE({})", "DROP INDEX", "DROP VIEW", "ALTER TABLE", "DROP ROLE", "SHUTDOWN", "CONFIG SET",
              "DEBUG SEGFAULT", "DROP FUNCTION", "DROP EXTENSION")


def sql_facts(cmd: Cmd, sql: str) -> None:
    up = " ".join(sql[:65536].upper().split())
    for stmt in up.replace("\\N", " ").split(";"):
        s = stmt.strip()
        hit = next((d for d in DB_DESTROY if d in s), None)
        if hit and not (hit == "ALTER TABLE" and " DROP " not in s):
            cmd.fact("db.destroy", f"the database command contains {hit.strip()}: irreversible data loss")
            continue
        if " PROGRAM " in f" {s} " and ("COPY " in s):
            from warden.core.analyze.escapes import escape

            escape(cmd, "COPY ... PROGRAM (runs a shell command on the database host)")
            cmd.opaque("COPY ... PROGRAM runs a command on the database server")
        if "DELETE FROM" in s and " WHERE " not in s:
            cmd.fact("db.destroy", "DELETE without WHERE empties a table")
        elif "UPDATE " in s and " SET " in s and " WHERE " not in s:
            cmd.fact("db.mutate", "UPDATE without WHERE changes every row")
    if "\\!" in sql or "\\! " in sql or "SYSTEM " in up[:8]:
        from warden.core.analyze.escapes import escape

        escape(cmd, "a client shell escape (\\!)")
        cmd.opaque("the database client runs a shell command")


DB_VALUE_OPTS = ("-h", "--host", "-p", "-P", "--port", "-U", "-u", "--user", "--username", "-d", "--dbname", "-D",
                 "--database", "-c", "--command", "-e", "--execute", "-f", "--file", "-a", "-n", "--eval", "-S")


def _db(cmd: Cmd) -> None:
    from warden.core.analyze.netflow import is_loopback

    args = cmd.args
    hosts = []
    for i, a in enumerate(args):
        if a in ("-h", "--host") and i + 1 < len(args) and cmd.program != "mongosh":
            hosts.append(args[i + 1])
            cmd.host(args[i + 1])
        elif a.startswith("--host="):
            hosts.append(a.split("=", 1)[1])
        elif "://" in a:
            from warden.core.analyze.netflow import host_of

            hosts.append(host_of(a) or "?")
    if all(is_loopback(h) or h.startswith("/") for h in hosts):
        cmd.fact("db.local", f"{cmd.program} talks to a local database")
    else:
        cmd.fact("db.connect", f"{cmd.program} talks to the database at {', '.join(hosts)}", hosts=hosts)
    for i, a in enumerate(args):
        if a in ("-c", "--command", "-e", "--execute", "--eval") and i + 1 < len(args):
            sql_facts(cmd, args[i + 1])
        if a in ("-h", "--host"):
            continue
        if a in ("-f", "--file") and i + 1 < len(args):
            cmd.path(args[i + 1], Access.READ)
    if cmd.program == "redis-cli":
        pos = _positional(args, ("-h", "-p", "-a", "-n", "-u", "--user", "--pass"))
        sql_facts(cmd, " ".join(pos))
    if cmd.inv.stdin is not None and cmd.inv.stdin.text:
        sql_facts(cmd, cmd.inv.stdin.text)
    runs = any(a in ("-c", "--command", "-e", "--execute", "--eval", "-f", "--file") for a in args) or (
        cmd.program == "redis-cli" and _positional(args, ("-h", "-p", "-a", "-n", "-u", "--user", "--pass")))
    if not runs and cmd.inv.stdin is None and not any(a in ("--version", "-V", "--help") for a in args):
        cmd.fact("exec.interactive", f"{cmd.program} opens an interactive database session")
    cmd.out = Flow(frozenset({NET}))


def _db_drop(cmd: Cmd) -> None:
    cmd.fact("db.destroy", f"{cmd.program} deletes a database or role")


def _dump(cmd: Cmd) -> None:
    cmd.fact("db.dump", f"{cmd.program} exports a whole database")
    for i, a in enumerate(cmd.args):
        if a in ("-f", "--file", "-r", "--result-file") and i + 1 < len(cmd.args):
            cmd.path(cmd.args[i + 1], Access.WRITE)


def _gh(cmd: Cmd) -> None:
    pos = _positional(cmd.args, ("-R", "--repo", "-X", "--method", "-f", "-F", "--field", "--raw-field", "-H",
                                 "--header", "-t", "--title", "-b", "--body", "-B", "--base", "--jq", "-q",
                                 "--json", "-L", "--limit", "-s", "--state", "--hostname", "-w", "--web"))
    if not pos:
        return
    what = "gh " + " ".join(pos[:3])
    area, verb = pos[0], (pos[1] if len(pos) > 1 else "")
    if area == "auth" and verb in ("token", "status") and ("--show-token" in cmd.args or verb == "token"):
        cmd.fact("secret.read", f"{what} prints a GitHub token")
    elif area == "repo" and verb in ("delete", "archive"):
        _emit(cmd, "destroy", what)
    elif area == "release" and verb in ("create", "upload"):
        cmd.fact("pkg.publish", f"{what}: publishes a release")
    elif area == "api":
        method = next((cmd.args[i + 1] for i, a in enumerate(cmd.args[:-1]) if a in ("-X", "--method")), "GET")
        if method.upper() == "DELETE":
            _emit(cmd, "delete", what)
        elif method.upper() != "GET" or any(a in ("-f", "-F", "--field", "--raw-field") for a in cmd.args):
            cmd.fact("vcs.remote_write", f"{what}: changes data on GitHub")
    elif area in ("secret", "variable") and verb in ("set", "delete", "remove"):
        cmd.fact("vcs.remote_write", f"{what}: changes repository secrets")
    elif verb in ("list", "view", "status", "diff", "checks", "ls", "watch", "download", "browse") or area in (
            "search", "status", "help", "version", "completion", "browse"):
        cmd.fact("cloud.read", what)
    elif verb in ("checkout", "clone", "co"):
        cmd.fact("git.fetch", what)
    elif area == "extension" and verb in ("install", "exec"):
        cmd.fact("pkg.install", f"{what}: installs code from GitHub")
    else:
        cmd.fact("vcs.remote_write", f"{what}: changes data on GitHub")


HANDLERS = {"aws": _aws, "gcloud": _gcloud, "gsutil": _gcloud, "az": _az, "kubectl": _kubectl, "oc": _kubectl,
            "k": _kubectl, "helm": _helm, "terraform": _terraform, "tofu": _terraform, "terragrunt": _terraform,
            "pulumi": _terraform, "cdk": _terraform, "docker": _docker, "podman": _docker, "nerdctl": _docker,
            "docker-compose": _docker, "psql": _db, "mysql": _db, "mariadb": _db, "sqlcmd": _db, "mongo": _db,
            "mongosh": _db, "redis-cli": _db, "cqlsh": _db, "clickhouse-client": _db, "sqlplus": _db,
            "cockroach": _db, "dropdb": _db_drop, "dropuser": _db_drop, "pg_dump": _dump, "pg_dumpall": _dump,
            "mysqldump": _dump, "mongodump": _dump, "gh": _gh}
