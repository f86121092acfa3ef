"""Run a command inside bubblewrap according to a profile. Fails closed, never runs unconfined.

Exit statuses (also used by ``warden exec``):
  the command's own status, or 128+N when it was killed by signal N;
  124  the wall-clock limit expired and the sandbox was killed;
  125  the sandbox could not be set up (bwrap missing, namespaces unavailable, bad profile);
  126  refused by policy (``warden exec`` only), or the command is not executable;
  127  the command was not found.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

from typing import Any, NamedTuple
from collections.abc import Callable, Mapping, Sequence

from warden.adapters.environment import flag_on
from warden.adapters.exec import mounts as _mounts
from warden.adapters.exec.env import scrub_env
from warden.adapters.exec.limits import Limiter
from warden.adapters.exec.profile import Profile

EXIT_TIMEOUT = 124
EXIT_SETUP = 125
EXIT_REFUSED = 126
EXIT_NOT_FOUND = 127

PROXY_PORT = 3128
_SOCKET_IN_SANDBOX = "/run/warden/egress.sock"
_RELAY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "relay.py")

AuditFn = Callable[[dict[str, Any]], Any]

INSTALL_FIX = ("install bubblewrap: `apt-get install bubblewrap` (Debian/Ubuntu), `dnf install bubblewrap` "
               "(Fedora), `pacman -S bubblewrap` (Arch)")
USERNS_FIX = ("enable user namespaces: `sysctl -w kernel.unprivileged_userns_clone=1` (Debian), "
              "`sysctl -w user.max_user_namespaces=15000`, or on Ubuntu 24.04+ "
              "`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (or an AppArmor profile for bwrap); "
              "inside a container, run it with --security-opt seccomp=unconfined or grant CAP_SYS_ADMIN")


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be built here. ``str(exc)`` says why and how to fix it."""


class SandboxResult:
    """Like :class:`subprocess.CompletedProcess`, plus what the sandbox did."""

    def __init__(self, returncode: int, stdout: bytes | None = None, stderr: bytes | None = None,
                 timed_out: bool = False, env_removed: list[str] | None = None, violations: list[str] | None = None,
                 egress: list[dict[str, Any]] | None = None, plan: dict[str, Any] | None = None) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.timed_out = timed_out
        self.env_removed = env_removed or []  # names only: values never leave the scrubber
        self.violations = violations or []
        self.egress = egress or []  # the proxy's decisions, as sent to the audit callback
        self.plan = plan or {}
        self.audit_error: str | None = None

    def __repr__(self) -> str:
        return (f"SandboxResult(returncode={self.returncode}, timed_out={self.timed_out}, "
                f"violations={self.violations}, env_removed={self.env_removed})")


def _which(program: str, path: str | None) -> str | None:
    for d in (path or os.defpath).split(os.pathsep):
        candidate = os.path.join(d or ".", program)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def bwrap_path() -> str:
    # Looked up on the caller's PATH (not a fixed path) so a test or an operator can point elsewhere.
    path = _which("bwrap", os.environ.get("PATH"))
    if path is None:
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed, so Warden will not run the command; {INSTALL_FIX}")
    return path


def diagnose(bwrap: str | None = None) -> str:
    """Why the sandbox cannot start here, with the fix; "" when a minimal sandbox works."""
    try:
        bwrap = bwrap or bwrap_path()
    except SandboxUnavailable as exc:
        return str(exc)
    probe = [bwrap, "--ro-bind", "/", "/", "--unshare-all", "--unshare-user", "--disable-userns",
             "--cap-drop", "ALL", "--", "true"]
    try:
        r = subprocess.run(probe, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap does not run ({exc}); {INSTALL_FIX}"
    if r.returncode == 0:
        return ""
    msg = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}"
    if "disable-userns" in msg or "Unknown option" in msg:
        return f"bubblewrap is too old ({msg}); Warden needs bwrap >= 0.8: {INSTALL_FIX}"
    return f"bubblewrap cannot create namespaces here ({msg}); {USERNS_FIX}"


def _home(env: Mapping[str, str]) -> str:
    home = env.get("HOME") or os.path.expanduser("~")
    return os.path.realpath(home) if home else ""


def default_warden_home(env: Mapping[str, str]) -> str:
    return env.get("WARDEN_HOME") or os.path.join(_home(env), ".warden")


def _inner_python() -> str:
    """An interpreter the sandbox can see for the relay (not one under the private /tmp or /run)."""
    # a venv under /tmp is a symlink to an interpreter elsewhere: either path may be the visible one
    for exe in (sys.executable, os.path.realpath(sys.executable)):
        if not exe.startswith(("/tmp/", "/run/")):
            return exe
    return _which("python3", "/usr/local/bin:/usr/bin:/bin") or sys.executable


def _visible_cwd(cwd: str, plan: _mounts.MountPlan, workspace: str) -> str:
    real = os.path.realpath(cwd)
    for root in plan.writable:
        if real == root or real.startswith(root + "/"):
            return real
    hidden = ("/tmp", "/run", "/dev", "/proc")
    if any(real == h or real.startswith(h + "/") for h in hidden) or not os.path.isdir(real):
        return workspace
    return real


class Prepared(NamedTuple):
    """Everything needed to start the sandbox."""

    argv: list[str]
    env: dict[str, str]
    env_removed: list[str]
    mounts: _mounts.MountPlan
    cwd: str


def prepare(
    argv: Sequence[str],
    profile: Profile,
    workspace: str,
    *,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    warden_home: str | None = None,
    seccomp_fd: int | None = None,
    status_fd: int | None = None,
    proxy_socket: str | None = None,
    bwrap: str | None = None,
    secret_env: Sequence[str] | None = None,
) -> Prepared:
    """Build the bubblewrap command line. Pure planning: reads the file system, starts nothing."""
    if not argv:
        raise ValueError("no command given")
    env = dict(os.environ if env is None else env)
    home = _home(env)
    workspace = os.path.realpath(workspace)
    if not os.path.isdir(workspace):
        raise _mounts.MountError(f"workspace {workspace} is not a directory")
    warden_home = warden_home if warden_home is not None else default_warden_home(env)

    def exp(entries: Sequence[str]) -> list[str]:
        out: list[str] = []
        for e in entries:
            out += _mounts.expand(e, workspace, home)
        return out

    plan = _mounts.plan_mounts(workspace=workspace, home=home, warden_home=warden_home,
                               writable=exp(profile.writable), read_only=exp(profile.read_only),
                               masked=exp(profile.masked), env=env, tmpfs_bytes=profile.limits.tmpfs_bytes)
    kept, removed = scrub_env(env, profile.env_allow, flagged=secret_env)
    kept["TMPDIR"] = "/tmp"
    kept["WARDEN_SANDBOX"] = profile.name  # informative only: never trusted as proof of confinement
    inner_cwd = _visible_cwd(cwd or os.getcwd(), plan, workspace)

    a = [bwrap or bwrap_path()]
    a += plan.args
    a += ["--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL", "--die-with-parent",
          "--hostname", "warden-sandbox", "--chdir", inner_cwd]
    if seccomp_fd is not None:
        a += ["--seccomp", str(seccomp_fd)]
    if status_fd is not None:
        a += ["--json-status-fd", str(status_fd)]
    command = list(argv)
    if profile.network == "proxy" or proxy_socket is not None:  # `none` runs a refusing proxy that explains
        if proxy_socket is None:
            raise ValueError("network: proxy needs a running egress proxy socket")
        a += ["--dir", "/run/warden", "--ro-bind", proxy_socket, _SOCKET_IN_SANDBOX,
              "--ro-bind", _RELAY, "/run/warden/relay.py"]
        url = f"http://127.0.0.1:{PROXY_PORT}"
        for k in ("NO_PROXY", "no_proxy"):
            kept.pop(k, None)
        for k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            kept[k] = url
        command = [_inner_python(), "-I", "-S", "/run/warden/relay.py", _SOCKET_IN_SANDBOX, str(PROXY_PORT),
                   "--", *command]
    a += ["--", *command]
    return Prepared(argv=a, env=kept, env_removed=removed, mounts=plan, cwd=inner_cwd)


def run_sandboxed(
    argv: Sequence[str],
    profile: Profile | None = None,
    workspace: str | None = None,
    *,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    warden_home: str | None = None,
    audit: AuditFn | None = None,
    capture: bool = False,
    input: bytes | None = None,
    hosts: Mapping[str, str] | None = None,
    resolver: Callable[[str, int], list[str]] | None = None,
    secret_env: Sequence[str] | None = None,
) -> SandboxResult:
    """Run ``argv`` confined by ``profile``; returns like :func:`subprocess.run`.

    Raises :class:`SandboxUnavailable` when bubblewrap is missing or cannot build the sandbox
    (nothing ran), and ``ProfileError``/``MountError`` for an unsafe or malformed profile.
    ``hosts`` and ``resolver`` feed the egress proxy (tests map ``allowed.test`` to 127.0.0.1).
    """
    from warden.adapters.exec.seccomp import UnsupportedArch, build_filter

    profile = profile or Profile()
    workspace = workspace or cwd or os.getcwd()
    bwrap = bwrap_path()
    try:
        bpf = build_filter()
    except UnsupportedArch as exc:
        raise SandboxUnavailable(f"{exc}; Warden's seccomp filter supports x86_64 and aarch64") from None

    proxy = None
    bridge: _AuditBridge | None = None
    explain = flag_on(os.environ if env is None else env, "WARDEN_SANDBOX_EXPLAIN_NETWORK")
    if profile.network == "proxy" or (profile.network == "none" and explain):
        from warden.adapters.exec.profile import upstream_address
        from warden.adapters.exec.proxy import EgressPolicy, EgressProxy

        # With `none` the proxy refuses everything, so a blocked connection is explained (403 body,
        # stderr, outcome event) instead of looking like a DNS failure.
        policy = EgressPolicy(allow_domains=profile.allow_domains, hosts=dict(hosts or {}),
                              allow_private=profile.allow_private,
                              upstream=upstream_address(profile, os.environ if env is None else env),
                              closed=closed_reason(profile) if profile.network == "none" else "")
        if resolver is not None:
            policy.resolver = resolver
        bridge = _AuditBridge(audit) if audit is not None else None
        proxy = EgressProxy(policy, bridge, profile=profile.name)

    sc_r, sc_w = os.pipe()
    st_r, st_w = os.pipe()
    limiter = Limiter(profile.limits)
    prepared: Prepared | None = None
    try:
        os.write(sc_w, bpf)  # ~0.5 KiB: fits the pipe buffer, so no writer thread is needed
        os.close(sc_w)
        sc_w = -1
        prepared = prepare(argv, profile, workspace, cwd=cwd, env=env, warden_home=warden_home,
                           seccomp_fd=sc_r, status_fd=st_w, bwrap=bwrap,
                           proxy_socket=proxy.socket_path if proxy else None, secret_env=secret_env)
        limiter.prepare()
        pipe = subprocess.PIPE if capture else None
        try:
            # preexec_fn is only safe single-threaded: the proxy thread starts after the fork.
            proc = subprocess.Popen(prepared.argv, env=prepared.env, pass_fds=(sc_r, st_w),
                                    stdin=subprocess.PIPE if input is not None else None,
                                    stdout=pipe, stderr=pipe, preexec_fn=limiter.preexec)
        except OSError as exc:
            raise SandboxUnavailable(f"cannot start bubblewrap: {exc}; {INSTALL_FIX}") from None
        os.close(st_w)
        st_w = -1
        os.close(sc_r)
        sc_r = -1
        if proxy:
            proxy.start()
            out, err, timed_out = _wait_serving(proc, profile.limits.wall_seconds, input, bridge)
        else:
            out, err, timed_out = _wait(proc, profile.limits.wall_seconds, input)
        started = _child_started(st_r)
    finally:
        for fd in (sc_r, sc_w, st_w):
            if fd >= 0:
                os.close(fd)
        if proxy:
            proxy.close()
        if prepared:
            _mounts.remove_placeholders(prepared.mounts)
        limiter.cleanup()
        os.close(st_r)

    if not started and not timed_out:
        why = diagnose(bwrap) or "bubblewrap failed before starting the command (see its message above)"
        detail = (err or b"").decode("utf-8", "replace").strip()
        raise SandboxUnavailable(why + (f"\nbwrap said: {detail}" if detail else ""))

    violations = _mounts.post_run_violations(prepared.mounts, workspace)
    rc = EXIT_TIMEOUT if timed_out else proc.returncode
    if rc < 0:
        rc = 128 - rc
    result = SandboxResult(
        returncode=rc, stdout=out, stderr=err, timed_out=timed_out, env_removed=prepared.env_removed,
        violations=violations, egress=list(proxy.events) if proxy else [],
        plan={**prepared.mounts.to_json(), "network": profile.network, "limits": limiter.describe()},
    )
    if audit is not None:
        blocked = blocked_connections(result)
        closed = {"network_closed": closed_reason(profile)} if blocked and profile.network == "none" else {}
        try:
            audit({"type": "sandbox.exec", "profile": profile.name, "returncode": rc, "timed_out": timed_out,
                   "violations": violations, "env_removed": prepared.env_removed, "network": profile.network,
                   "network_blocked": blocked, **closed,
                   "processes_enforced_by": limiter.describe()["processes_enforced_by"]})
        except Exception as exc:  # the command already ran; say so rather than lose its status
            result.audit_error = f"{type(exc).__name__}: {exc}"
    return result


def closed_reason(profile: Profile) -> str:
    return (f"the sandbox's network is closed (profile {profile.name!r} has network: none); to allow a host, give "
            "the profile `network: proxy` and `allow_domains: [HOST]` in the policy's sandbox.profiles, or use "
            "`--profile net` for package registries")


def blocked_connections(result: SandboxResult) -> list[str]:
    """host:port of every connection the egress proxy refused during the run."""
    return [f"{e.get('host')}:{e.get('port')}" for e in result.egress if e.get("decision") == "deny"]


def _wait(proc: subprocess.Popen[bytes], wall: int, input: bytes | None) -> tuple[bytes | None, bytes | None, bool]:
    if proc.stdout is None and proc.stderr is None and input is None:
        return None, None, _wait_blocking(proc, wall)
    try:
        out, err = proc.communicate(input=input, timeout=wall)
        return out, err, False
    except subprocess.TimeoutExpired:
        proc.kill()  # --die-with-parent takes the whole sandbox down with bwrap
        out, err = proc.communicate()
        return out, err, True
    except KeyboardInterrupt:
        # The terminal sent SIGINT to the sandbox too; give it a moment to exit on its own.
        try:
            out, err = proc.communicate(timeout=5)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            proc.kill()
            out, err = proc.communicate()
        return out, err, False


class _AuditBridge:
    """Runs the audit callback on the caller's thread for events raised on proxy threads.

    Audit stores are often bound to the thread that opened them (sqlite3 is), so the proxy hands
    each event over and waits for the verdict of the write: an allowed connection goes ahead only
    once its evidence is durable.
    """

    def __init__(self, audit: AuditFn) -> None:
        import queue

        self._audit = audit
        self._empty = queue.Empty
        self._queue: Any = queue.Queue()

    def __call__(self, event: dict[str, Any]) -> None:  # proxy threads
        import threading

        done = threading.Event()
        errors: list[BaseException] = []
        self._queue.put((event, done, errors))
        if not done.wait(30):
            raise TimeoutError("audit write did not complete")
        if errors:
            raise errors[0]

    def serve(self, timeout: float) -> None:  # the caller's thread
        try:
            event, done, errors = self._queue.get(timeout=timeout)
        except self._empty:
            return
        try:
            self._audit(event)
        except Exception as exc:
            errors.append(exc)
        done.set()


def _wait_serving(proc: subprocess.Popen[bytes], wall: int, input: bytes | None,
                  bridge: _AuditBridge | None) -> tuple[bytes | None, bytes | None, bool]:
    import threading

    box: list[tuple[bytes | None, bytes | None, bool]] = []
    waiter = threading.Thread(target=lambda: box.append(_wait(proc, wall, input)), daemon=True)
    waiter.start()
    try:
        while waiter.is_alive():
            if bridge is not None:
                bridge.serve(0.05)
            else:
                waiter.join(0.05)
    except KeyboardInterrupt:
        waiter.join(5)  # the terminal sent SIGINT to the sandbox too
        if waiter.is_alive():
            proc.kill()
    waiter.join()
    return box[0]


def _wait_blocking(proc: subprocess.Popen[bytes], wall: int) -> bool:
    """Wait in waitpid, with a timer for the wall-clock limit.

    ``Popen.wait(timeout)`` polls with growing sleeps, which adds up to tens of milliseconds to
    every short command; a blocking wait plus a timer thread that kills bwrap costs nothing.
    """
    import threading

    fired = threading.Event()

    def expire() -> None:
        fired.set()
        proc.kill()  # --die-with-parent takes the whole sandbox down with bwrap

    timer = threading.Timer(wall, expire)
    timer.daemon = True
    timer.start()
    try:
        try:
            proc.wait()
        except KeyboardInterrupt:
            # The terminal sent SIGINT to the sandbox too; give it a moment to exit on its own.
            try:
                proc.wait(timeout=5)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                proc.kill()
                proc.wait()
    finally:
        timer.cancel()
    return fired.is_set()


def _child_started(fd: int) -> bool:
    data = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    # bwrap writes {"child-pid": N, ...} once the command's process exists; a key match is enough.
    return b'"child-pid"' in data


def run_unsandboxed(argv: Sequence[str], *, cwd: str | None = None, env: Mapping[str, str] | None = None,
                    capture: bool = False, input: bytes | None = None, wall_seconds: int | None = None
                    ) -> SandboxResult:
    """``--no-sandbox``: only reachable when the policy sets ``sandbox.allow_unsandboxed: true``."""
    pipe = subprocess.PIPE if capture else None
    try:
        proc = subprocess.Popen(list(argv), cwd=cwd, env=None if env is None else dict(env),
                                stdin=subprocess.PIPE if input is not None else None, stdout=pipe, stderr=pipe)
    except FileNotFoundError:
        return SandboxResult(returncode=EXIT_NOT_FOUND)
    except OSError:
        return SandboxResult(returncode=EXIT_REFUSED)
    out, err, timed_out = _wait(proc, wall_seconds or 10**9, input)
    rc = EXIT_TIMEOUT if timed_out else proc.returncode
    return SandboxResult(returncode=128 - rc if rc < 0 else rc, stdout=out, stderr=err, timed_out=timed_out)


def wrap_for_claude(command: str, workspace: str, profile: str = "default", grant: str = "") -> str:
    """A shell command that runs ``command`` under ``warden exec`` (Claude Code sandbox mode).

    Uses this interpreter's absolute path so the rewrite does not depend on the agent's PATH, and
    ``bash -c`` so pipelines, redirections and ``&&`` chains stay inside the sandbox as one unit.
    """
    shell = "/bin/bash" if os.path.exists("/bin/bash") else "/bin/sh"
    parts = [sys.executable, "-m", "warden", "exec", "--profile", profile, "--workspace", workspace,
             *(["--grant", grant] if grant else []), "--", shell, "-c", command]
    return shlex.join(parts)
