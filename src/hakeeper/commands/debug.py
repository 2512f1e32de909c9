"""`resource debug`: the seeds' container debugging by hand (paunch print-cmd, exec, logs,
inspect, export, debug=True in a service's config) as one command on one replica.

Every engine call is an argv list through the CommandRunner seam (never a shell); the
one interactive call (exec) goes through the Terminal seam. A replica under Pacemaker is
never restarted behind the cluster's back: the restart is returned as a command to run.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from hakeeper.checks.runner import CommandRunner, RunResult, SubprocessRunner
from hakeeper.reports import CommandError, Report

# Stable report codes of `resource debug` (exit 2).
DEBUG_REPLICA_NOT_FOUND: Final = "DEBUG_REPLICA_NOT_FOUND"
DEBUG_ENGINE_MISSING: Final = "DEBUG_ENGINE_MISSING"
DEBUG_ENGINE_FAILED: Final = "DEBUG_ENGINE_FAILED"
DEBUG_CONFIG_NOT_FOUND: Final = "DEBUG_CONFIG_NOT_FOUND"
DEBUG_CONFIG_WRITE_FAILED: Final = "DEBUG_CONFIG_WRITE_FAILED"
DEBUG_BAD_ARGUMENT: Final = "DEBUG_BAD_ARGUMENT"

ENGINES: Final = ("podman", "docker")

# Pacemaker's podman/docker agents name a bundle's containers BUNDLE-podman-N; the
# replica (its pacemaker-remote node) is BUNDLE-N.
_BUNDLE_CONTAINER = re.compile(r"^(?P<bundle>.+-bundle)-(?:podman|docker)-(?P<n>\d+)$")
_BUNDLE_REPLICA = re.compile(r"^(?P<bundle>.+-bundle)-(?P<n>\d+)$")
_SERVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

# What the engine adds to every container's environment by itself.
_ENGINE_ENV_KEYS = frozenset({"container", "HOSTNAME"})
_ENGINE_ENV = frozenset(
    {
        "TERM=xterm",
        "HOME=/root",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    }
)
_DEFAULT_LOG_DRIVERS = frozenset({"", "k8s-file", "json-file"})


class Terminal(Protocol):
    def attach(self, argv: Sequence[str]) -> int:
        """Run argv on the user's terminal (stdio inherited); its exit status, 127 if the
        executable is missing."""
        ...


class SubprocessTerminal:
    def attach(self, argv: Sequence[str]) -> int:
        try:
            return subprocess.call(list(argv))
        except FileNotFoundError:
            return 127


@dataclass(frozen=True, slots=True)
class DebugEnv:
    """The OS edges `resource debug` touches: processes, the terminal, the host's files
    (under `host_root`, so tests use a temporary tree), the host name and the clock."""

    runner: CommandRunner
    terminal: Terminal
    hostname: str
    host_root: Path = Path("/")
    timeout_s: float = 30.0
    long_timeout_s: float = 1800.0  # export, restart
    clock: Callable[[], float] = time.time

    @classmethod
    def from_os(cls) -> DebugEnv:
        return cls(SubprocessRunner(), SubprocessTerminal(), socket.gethostname().split(".")[0])


# ---------------------------------------------------------------------------- actions


class RestartMode(enum.Enum):
    SAFE = "safe"  # restart a plain container; for a cluster-managed one, say how
    NONE = "none"  # --no-restart
    FORCE = "force"  # --force: restart it through the engine even under Pacemaker


@dataclass(frozen=True, slots=True)
class PrintCmd:
    name = "print-cmd"


@dataclass(frozen=True, slots=True)
class Exec:
    command: tuple[str, ...] = ()  # empty: an interactive shell
    tty: bool = False
    name = "exec"


@dataclass(frozen=True, slots=True)
class Logs:
    tail: int | None = 100
    since: str | None = None
    name = "logs"


@dataclass(frozen=True, slots=True)
class Inspect:
    name = "inspect"


@dataclass(frozen=True, slots=True)
class Export:
    out: Path
    name = "export"


@dataclass(frozen=True, slots=True)
class EnableDebug:
    service: str
    restart: RestartMode = RestartMode.SAFE
    name = "enable-debug"


DebugAction = PrintCmd | Exec | Logs | Inspect | Export | EnableDebug


# ------------------------------------------------------------------------------- DTOs


@dataclass(frozen=True, slots=True)
class Container:
    """One container as its engine describes it."""

    engine: str
    name: str
    inspect: Mapping[str, Any]

    @property
    def bundle(self) -> str | None:
        """The Pacemaker bundle this is a replica of, judged by the agents' naming."""
        m = _BUNDLE_CONTAINER.match(self.name)
        return m["bundle"] if m else None


@dataclass(frozen=True, slots=True)
class ConfigEdit:
    path: str  # on the host
    changed: bool
    backup: str | None  # None when nothing changed
    previous: str | None  # the debug line it replaced, if any


class RestartOutcome(enum.Enum):
    RESTARTED = "restarted"
    FAILED = "failed"
    LEFT_TO_CLUSTER = "left-to-cluster"  # Pacemaker manages it: run `command`
    SKIPPED = "skipped"  # --no-restart
    NOT_NEEDED = "not-needed"  # the config already had debug on


@dataclass(frozen=True, slots=True)
class Restart:
    outcome: RestartOutcome
    command: tuple[str, ...] = ()  # what ran, or what to run
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DebugDto:
    action: str
    replica: str  # as the user named it
    container: str
    engine: str
    bundle: str | None
    command: tuple[str, ...]  # what ran; for print-cmd, the reconstructed run command
    output: str = ""
    exit_code: int | None = None
    create_command: tuple[str, ...] = ()  # print-cmd: what the engine recorded, if it did
    path: str | None = None  # export: the tar written
    size_bytes: int | None = None
    config: ConfigEdit | None = None
    restart: Restart | None = None
    next_steps: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "action": self.action,
            "replica": self.replica,
            "container": self.container,
            "engine": self.engine,
            "bundle": self.bundle,
            "command": list(self.command),
            "command_line": shlex.join(self.command),
            "output": self.output,
            "exit_code": self.exit_code,
            "create_command": list(self.create_command),
            "path": self.path,
            "size_bytes": self.size_bytes,
            "config": None,
            "restart": None,
            "next_steps": list(self.next_steps),
        }
        if self.config is not None:
            out["config"] = {
                "path": self.config.path,
                "changed": self.config.changed,
                "backup": self.config.backup,
                "previous": self.config.previous,
            }
        if self.restart is not None:
            out["restart"] = {
                "outcome": self.restart.outcome.value,
                "command": list(self.restart.command),
                "reason": self.restart.reason,
            }
        return out


# -------------------------------------------------------------------- locating it


def container_names(replica: str, engine: str = ENGINES[0]) -> tuple[str, ...]:
    """The container names a replica may have: as given, then Pacemaker's for BUNDLE-N,
    the name `engine`'s agent gives first."""
    names = [replica]
    m = _BUNDLE_REPLICA.match(replica)
    if m and not _BUNDLE_CONTAINER.match(replica):
        order = sorted(ENGINES, key=lambda e: e != engine)
        names += [f"{m['bundle']}-{e}-{m['n']}" for e in order]
    return tuple(names)


def _engine_failed(what: str, result: RunResult, *, where: str) -> CommandError:
    tail = [line for line in result.stderr.splitlines() if line.strip()][-3:]
    why = "timed out" if result.timed_out else "; ".join(tail) or f"exit status {result.returncode}"
    return CommandError(
        Report.error(
            DEBUG_ENGINE_FAILED,
            f"{what} failed: {why}",
            where=where,
            hint="run the command by hand to see the engine's full error",
            command=list(result.argv),
            reason=why,
        )
    )


def _first_object(text: str) -> Mapping[str, Any] | None:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return data[0]
    return data if isinstance(data, dict) else None


def locate(env: DebugEnv, replica: str) -> Container:
    """The container of `replica` in podman, else docker; CommandError if none has it."""
    missing: list[str] = []
    for engine in ENGINES:
        for name in container_names(replica, engine):
            argv = (engine, "inspect", "--type", "container", name)
            result = env.runner.run(argv, timeout=env.timeout_s)
            if result.missing:
                missing.append(engine)
                break
            if result.timed_out:
                raise _engine_failed(f"{engine} inspect", result, where=replica)
            if result.returncode == 0:
                data = _first_object(result.stdout)
                if data is None:
                    raise CommandError(
                        Report.error(
                            DEBUG_ENGINE_FAILED,
                            f"cannot read `{shlex.join(argv)}` output",
                            where=replica,
                            hint="check the engine works: podman ps --all",
                            command=list(argv),
                            reason="unreadable JSON",
                        )
                    )
                return Container(engine, str(data.get("Name", name)).lstrip("/"), data)
    if len(missing) == len(ENGINES):
        raise CommandError(
            Report.error(
                DEBUG_ENGINE_MISSING,
                "neither podman nor docker is installed on this host",
                where=replica,
                hint="run this on the node that runs the replica",
                engines=list(ENGINES),
            )
        )
    raise CommandError(
        Report.error(
            DEBUG_REPLICA_NOT_FOUND,
            f"no container {' or '.join(container_names(replica))} on {env.hostname}",
            where=replica,
            hint="list this host's containers with `podman ps --all` (or `hakeeper check --only"
            " containers`); `pcs status` shows which node runs the replica",
            replica=replica,
            names=list(container_names(replica)),
            host=env.hostname,
        )
    )


# ---------------------------------------------------------------- print-cmd


def _strings(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _volume(mount: Mapping[str, Any]) -> str | None:
    kind = mount.get("Type", "bind")
    dest = mount.get("Destination", "")
    src = mount.get("Source", "") if kind == "bind" else mount.get("Name", "")
    if kind not in ("bind", "volume") or not src or not dest:
        return None
    opts: list[str] = []
    if not mount.get("RW", True):
        opts.append("ro")
    opts += [o for o in str(mount.get("Mode") or "").split(",") if o and o not in ("ro", "rw")]
    propagation = mount.get("Propagation") or ""
    if propagation and propagation != "rprivate":
        opts.append(propagation)
    return f"{src}:{dest}" + (":" + ",".join(opts) if opts else "")


def _network(mode: str) -> list[str]:
    if mode in ("", "default", "bridge", "slirp4netns", "pasta"):
        return []
    return [f"--net={mode}"]


def run_command(
    engine: str, inspect: Mapping[str, Any], image: Mapping[str, Any] | None = None
) -> tuple[str, ...]:
    """The `ENGINE run` command line that starts this container again, from its inspect
    JSON (podman's or docker's). Settings equal to the image's own (`image`: its inspect
    JSON, when known) or that the engine adds by itself are left out."""
    cfg: Mapping[str, Any] = inspect.get("Config") or {}
    host: Mapping[str, Any] = inspect.get("HostConfig") or {}
    img: Mapping[str, Any] = (image or {}).get("Config") or {}
    name = str(inspect.get("Name", "")).lstrip("/")
    argv: list[str] = [engine, "run", "--detach", f"--name={name}"]

    img_labels = img.get("Labels") or {}
    for key, value in sorted((cfg.get("Labels") or {}).items()):
        if img_labels.get(key) != value:
            argv.append(f"--label={key}={value}")
    argv += _network(str(host.get("NetworkMode") or ""))
    for flag, key in (("--pid", "PidMode"), ("--ipc", "IpcMode"), ("--uts", "UTSMode")):
        if host.get(key) == "host":
            argv.append(f"{flag}=host")
    if host.get("Privileged"):
        argv.append("--privileged=true")
    if cfg.get("User") and cfg.get("User") != img.get("User"):
        argv.append(f"--user={cfg['User']}")
    if host.get("Init"):
        argv.append("--init")
    restart = (host.get("RestartPolicy") or {}).get("Name") or ""
    if restart not in ("", "no"):
        argv.append(f"--restart={restart}")
    log = host.get("LogConfig") or {}
    if log.get("Type") not in _DEFAULT_LOG_DRIVERS:
        argv.append(f"--log-driver={log['Type']}")
    if (
        log.get("Path")
        and "/overlay-containers/" not in str(log["Path"])
        and "/containers/" + str(inspect.get("Id", "-")) not in str(log["Path"])
    ):
        argv.append(f"--log-opt=path={log['Path']}")
    if not host.get("Privileged"):  # privileged has them all; a drop is the host's limit
        argv += [f"--cap-add={cap}" for cap in _strings(host.get("CapAdd"))]
        argv += [f"--cap-drop={cap}" for cap in _strings(host.get("CapDrop"))]
    for opt in _strings(host.get("SecurityOpt")):
        argv.append(f"--security-opt={opt}")
    for dev in host.get("Devices") or []:
        argv.append(f"--device={dev.get('PathOnHost')}:{dev.get('PathInContainer')}")
    health = (cfg.get("Healthcheck") or {}).get("Test") or []
    if health and health != (img.get("Healthcheck") or {}).get("Test"):
        if health[0] == "CMD-SHELL":
            argv.append(f"--health-cmd={' '.join(health[1:])}")
        elif health[0] == "CMD":
            argv.append(f"--health-cmd={json.dumps(health[1:])}")
    img_env = set(_strings(img.get("Env")))
    for item in _strings(cfg.get("Env")):
        if item in img_env or item in _ENGINE_ENV or item.split("=", 1)[0] in _ENGINE_ENV_KEYS:
            continue
        argv.append(f"--env={item}")
    mounts = inspect.get("Mounts") or []
    for mount in mounts:
        volume = _volume(mount)
        if volume:
            argv.append(f"--volume={volume}")
    for dest, opts in sorted((host.get("Tmpfs") or {}).items()):
        kept = [
            o
            for o in str(opts).split(",")
            if o and o not in ("rprivate", "nosuid", "nodev", "tmpcopyup", "rw")
        ]
        argv.append(f"--tmpfs={dest}" + (":" + ",".join(kept) if kept else ""))
    workdir = cfg.get("WorkingDir") or ""
    if workdir not in ("", "/") and workdir != img.get("WorkingDir"):
        argv.append(f"--workdir={workdir}")
    entrypoint = _strings(cfg.get("Entrypoint"))
    if entrypoint and entrypoint != _strings(img.get("Entrypoint")):
        shown = json.dumps(entrypoint) if len(entrypoint) > 1 else entrypoint[0]
        argv.append(f"--entrypoint={shown}")
    argv.append(str(cfg.get("Image") or inspect.get("ImageName") or inspect.get("Image", "")))
    argv += _strings(cfg.get("Cmd"))
    return tuple(argv)


def _image_inspect(env: DebugEnv, c: Container) -> Mapping[str, Any] | None:
    image = str(c.inspect.get("Image") or "")
    if not image:
        return None
    result = env.runner.run((c.engine, "image", "inspect", image), timeout=env.timeout_s)
    return _first_object(result.stdout) if result.returncode == 0 else None


# -------------------------------------------------------------------- enable-debug


def set_debug(text: str) -> tuple[str, str | None]:
    """`text` (an oslo.config INI file) with `debug = True` in [DEFAULT]; and the debug
    line it replaced. Comments, order and other sections are kept as they are."""
    lines = text.splitlines(keepends=True)
    section: str | None = None
    default_at: int | None = None
    commented_at: int | None = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1].strip()
            if section == "DEFAULT" and default_at is None:
                default_at = i
            continue
        if section != "DEFAULT":
            continue
        if re.match(r"^debug\s*[=:]", stripped):
            if re.match(r"^debug\s*[=:]\s*true\s*$", stripped, re.IGNORECASE):
                return text, stripped
            ending = line[len(line.rstrip("\r\n")) :] or "\n"
            kept = re.match(r"^\s*debug\s*[=:]\s*", line)
            lines[i] = (kept[0] if kept else "debug=") + "True" + ending
            return "".join(lines), stripped
        if commented_at is None and re.match(r"^[#;]\s*debug\s*[=:]", stripped):
            commented_at = i
    if default_at is None:
        return "[DEFAULT]\ndebug=True\n" + ("\n" if text.strip() else "") + text, None
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    at = (commented_at if commented_at is not None else default_at) + 1
    lines.insert(at, "debug=True\n")
    return "".join(lines), None


def _on_host(env: DebugEnv, path: str) -> Path:
    return env.host_root / path.lstrip("/")


def config_candidates(c: Container, service: str) -> tuple[str, ...]:
    """Host paths where SERVICE's config may be, from the container's bind mounts (the
    puppet-generated config dir first), then TripleO's standard place."""
    conf = f"{service}.conf"
    mounts = [m for m in c.inspect.get("Mounts") or [] if m.get("Type", "bind") == "bind"]
    mounts.sort(key=lambda m: "/config-data/" not in str(m.get("Source", "")))
    out: list[str] = []
    for m in mounts:
        src = str(m.get("Source", "")).rstrip("/")
        if not src:
            continue
        if src.endswith("/" + conf):
            out.append(src)
        else:
            out += [f"{src}/etc/{service}/{conf}", f"{src}/{conf}"]
    out.append(f"/var/lib/config-data/puppet-generated/{service}/etc/{service}/{conf}")
    return tuple(dict.fromkeys(out))


def find_config(env: DebugEnv, c: Container, service: str) -> str:
    """The host path of SERVICE's config file; CommandError if none exists."""
    candidates = config_candidates(c, service)
    for path in candidates:
        if _on_host(env, path).is_file():
            return path
    raise CommandError(
        Report.error(
            DEBUG_CONFIG_NOT_FOUND,
            f"no {service}.conf in the config dirs mounted into {c.name}",
            where=f"{c.name}: {service}",
            hint=f"`hakeeper resource debug {c.name} inspect` lists the mounts; the SERVICE is"
            " the name in /var/lib/config-data/puppet-generated/SERVICE/etc/SERVICE/SERVICE.conf",
            service=service,
            container=c.name,
            tried=list(candidates),
        )
    )


def _write_atomically(target: Path, text: str, backup: Path) -> None:
    """Backup first, then a sibling temp file renamed over the target (same mode/owner)."""
    st = target.stat()
    shutil.copy2(target, backup)
    tmp = target.with_name(f".{target.name}.hakeeper-tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, st.st_mode & 0o7777)
        with contextlib.suppress(PermissionError):
            os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _edit_config(env: DebugEnv, c: Container, service: str) -> ConfigEdit:
    path = find_config(env, c, service)
    target = _on_host(env, path)
    try:
        text = target.read_text(encoding="utf-8")
        new, previous = set_debug(text)
        if new == text:
            return ConfigEdit(path, False, None, previous)
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(env.clock()))
        backup = f"{path}.hakeeper-{stamp}.bak"
        n = 0
        while _on_host(env, backup).exists():  # never overwrite an earlier backup
            n += 1
            backup = f"{path}.hakeeper-{stamp}-{n}.bak"
        _write_atomically(target, new, _on_host(env, backup))
    except (OSError, UnicodeDecodeError) as err:
        raise CommandError(
            Report.error(
                DEBUG_CONFIG_WRITE_FAILED,
                f"cannot update {path}: {err}",
                where=path,
                hint="run as root on the node holding the container",
                path=path,
            )
        ) from err
    return ConfigEdit(path, True, backup, previous)


def _restart(env: DebugEnv, c: Container, edit: ConfigEdit, mode: RestartMode) -> Restart:
    engine_restart = (c.engine, "restart", c.name)
    if mode is RestartMode.NONE:
        return Restart(
            RestartOutcome.SKIPPED,
            engine_restart
            if c.bundle is None
            else ("pcs", "resource", "restart", c.bundle, env.hostname),
            "--no-restart: the service reads the change at its next restart",
        )
    if not edit.changed and mode is not RestartMode.FORCE:
        return Restart(RestartOutcome.NOT_NEEDED, (), "debug was already on")
    if c.bundle is not None and mode is not RestartMode.FORCE:
        return Restart(
            RestartOutcome.LEFT_TO_CLUSTER,
            ("pcs", "resource", "restart", c.bundle, env.hostname),
            f"{c.bundle} is managed by Pacemaker: restarting the container behind"
            " its back would make its monitor fail; restart it through the cluster"
            " (or pass --force)",
        )
    result = env.runner.run(engine_restart, timeout=env.long_timeout_s)
    if result.returncode == 0:
        return Restart(RestartOutcome.RESTARTED, engine_restart)
    why = (
        "timed out"
        if result.timed_out
        else (
            "; ".join(line for line in result.stderr.splitlines() if line.strip())[-300:]
            or f"exit status {result.returncode}"
        )
    )
    return Restart(RestartOutcome.FAILED, engine_restart, why)


# ------------------------------------------------------------------------- the command


def _check_action(action: DebugAction) -> None:
    bad: tuple[str, str] | None = None
    if isinstance(action, EnableDebug) and not _SERVICE_NAME.match(action.service):
        bad = ("SERVICE", f"not a service name: {action.service!r}")
    elif isinstance(action, Logs) and action.tail is not None and action.tail < 0:
        bad = ("--tail", "must be 0 or more")
    elif isinstance(action, Export):
        if action.out.is_dir() or not action.out.parent.is_dir():
            bad = ("OUT", f"{action.out}: give a file name in an existing directory")
    if bad is not None:
        raise CommandError(
            Report.error(
                DEBUG_BAD_ARGUMENT,
                bad[1],
                where=bad[0],
                hint="see `hakeeper resource debug --help`",
            )
        )


def _base(
    c: Container, replica: str, action: DebugAction, command: Iterable[str]
) -> dict[str, Any]:
    return {
        "action": action.name,
        "replica": replica,
        "container": c.name,
        "engine": c.engine,
        "bundle": c.bundle,
        "command": tuple(command),
    }


def debug(env: DebugEnv, replica: str, action: DebugAction) -> DebugDto:
    """Run one debugging action on the container of `replica` (a container name or a
    bundle replica like galera-bundle-0). Raises CommandError (exit 2) for bad input:
    no such container, no engine, no config file for enable-debug."""
    _check_action(action)
    c = locate(env, replica)
    if isinstance(action, PrintCmd):
        recorded = tuple(_strings((c.inspect.get("Config") or {}).get("CreateCommand")))
        return DebugDto(
            **_base(c, replica, action, run_command(c.engine, c.inspect, _image_inspect(env, c))),
            create_command=recorded,
        )
    if isinstance(action, Inspect):
        return DebugDto(
            **_base(c, replica, action, (c.engine, "inspect", "--type", "container", c.name)),
            output=json.dumps([c.inspect], indent=4) + "\n",
            exit_code=0,
        )
    if isinstance(action, Exec):
        flags = ("--interactive", "--tty") if action.tty else ("--interactive",)
        argv = (c.engine, "exec", *flags, c.name, *(action.command or ("/bin/sh",)))
        return DebugDto(**_base(c, replica, action, argv), exit_code=env.terminal.attach(argv))
    if isinstance(action, Logs):
        argv = (
            c.engine,
            "logs",
            *(("--tail", str(action.tail)) if action.tail is not None else ()),
            *(("--since", action.since) if action.since else ()),
            c.name,
        )
        result = env.runner.run(argv, timeout=env.long_timeout_s)
        if result.returncode != 0:
            raise _engine_failed(f"{c.engine} logs", result, where=c.name)
        # Both streams: the engine replays the container's stderr on its own stderr.
        return DebugDto(
            **_base(c, replica, action, argv), output=result.stdout + result.stderr, exit_code=0
        )
    if isinstance(action, Export):
        argv = (c.engine, "export", "--output", str(action.out), c.name)
        result = env.runner.run(argv, timeout=env.long_timeout_s)
        if result.returncode != 0:
            raise _engine_failed(f"{c.engine} export", result, where=c.name)
        size = action.out.stat().st_size if action.out.exists() else None
        return DebugDto(
            **_base(c, replica, action, argv),
            exit_code=0,
            path=str(action.out),
            size_bytes=size,
            next_steps=(f"tar -tvf {shlex.quote(str(action.out))}",),
        )
    edit = _edit_config(env, c, action.service)
    restart = _restart(env, c, edit, action.restart)
    steps: list[str] = []
    if (
        restart.outcome
        in (RestartOutcome.LEFT_TO_CLUSTER, RestartOutcome.SKIPPED, RestartOutcome.FAILED)
        and restart.command
    ):
        steps.append(shlex.join(restart.command))
    steps.append(f"{c.engine} logs --tail 50 {c.name}")
    if edit.backup:
        steps.append(f"to undo: cp {shlex.quote(edit.backup)} {shlex.quote(edit.path)}")
    return DebugDto(
        **_base(c, replica, action, restart.command),
        config=edit,
        restart=restart,
        next_steps=tuple(steps),
        exit_code=1 if restart.outcome is RestartOutcome.FAILED else 0,
    )


__all__ = [
    "DebugAction",
    "DebugDto",
    "DebugEnv",
    "EnableDebug",
    "Exec",
    "Export",
    "Inspect",
    "Logs",
    "PrintCmd",
    "RestartMode",
    "RestartOutcome",
    "debug",
    "run_command",
    "set_debug",
]
