"""Container engines for bundles: podman (and docker, through the same CLI).

A bundle replica is one container named as Pacemaker names it (galera-bundle-podman-0),
joined to its node's network namespace (`--network ns:/run/netns/NODE`; bundle
network="host" means the node's namespace, which is the host's one in production). The
inner resource's agent runs inside it through `exec`, so nothing of the cluster stack
needs to be installed in the image.

Every engine call is argv only, with a deadline; the engine's failures come out as
ContainerError with its stderr, never as a client exception.
"""

from __future__ import annotations

import enum
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hakeeper.agents.process import Exit, ProcessOutcome, run_process
from hakeeper.agents.remote import RemoteExecutor

ENGINE_TIMEOUT = 60.0
ENV_KEYS = (
    "PATH",
    "HOME",
    "CONTAINERS_CONF",
    "CONTAINERS_STORAGE_CONF",
    "XDG_RUNTIME_DIR",
    "DOCKER_HOST",
    "TMPDIR",
)
#: `inspect --format`: State, Config.Image and Config.Labels (podman and docker alike)
_INSPECT_FORMAT = (
    '{"State":{{json .State}},"Config":{"Image":{{json .Config.Image}},'
    '"Labels":{{json .Config.Labels}}}}'
)
# What the engine answers for a name it does not know (podman 4, docker 20+)
_NO_SUCH = ("no such container", "no such object", "no container with name or id")
# What podman answers for a container its database holds but its storage lost (a power cut
# between the two updates of a create or a remove): it cannot run; `rm --force` clears it
_STORAGE_LOST = "container not known"
# What the engine's exec answers when it could not start the command at all, the container
# not running or gone (podman 4: 255 or 125; docker 20+: 1 from its daemon). Matched with the
# exit code, so an inner command's own words on stderr cannot be taken for it.
_NO_EXEC_CODES = (1, 125, 255)
_NO_EXEC = (
    "can only create exec sessions on running containers",
    "container state improper",
    # runc, when the engine's state says running but the container's processes are gone
    # (its conmon killed with them, so nobody told the engine)
    "cannot exec in a stopped container",
    *_NO_SUCH,
    "error response from daemon: container",
)


class ContainerError(Exception):
    """The engine failed (or is not installed); `output` holds what it said."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(f"{message}: {output.strip()[-500:]}" if output.strip() else message)
        self.output = output


class State(enum.Enum):
    RUNNING = "running"
    STOPPED = "stopped"  # created, exited, stopped, paused: exists but not running
    ABSENT = "absent"


@dataclass(frozen=True, slots=True)
class Mount:
    source: str
    target: str
    options: str = ""  # rw, ro, z, ...
    create: bool = False  # make the source directory if missing (a source-dir-root's)

    def volume_arg(self) -> str:
        return f"{self.source}:{self.target}" + (f":{self.options}" if self.options else "")


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """What `run` starts. network: "host", "none" or "ns:/run/netns/NODE" (podman)."""

    name: str
    image: str
    network: str = "host"
    mounts: tuple[Mount, ...] = ()
    run_command: tuple[str, ...] = ()
    options: tuple[str, ...] = ()  # the bundle's `options`, split into words
    env: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    init: bool = True  # an init as PID 1 reaps and forwards SIGTERM: stop is clean and quick
    pull: str = "never"  # images are imported locally; a missing one is an error, not a pull


@dataclass(frozen=True, slots=True)
class ContainerInfo:
    name: str
    state: State
    status: str  # the engine's own word: running, exited, created, paused...
    pid: int | None
    exit_code: int | None
    image: str
    labels: Mapping[str, str]


class ContainerEngine:
    """podman or docker, driven by its CLI. `global_args` go before the subcommand
    (podman --root DIR --runroot DIR, docker --host URL)."""

    def __init__(
        self,
        binary: str = "podman",
        *,
        global_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        timeout: float = ENGINE_TIMEOUT,
    ) -> None:
        self.binary = binary
        self.name = os.path.basename(binary)
        self.global_args = tuple(global_args)
        # the engine's own settings (CONTAINERS_CONF, ...) come from the daemon's environment
        self.env = (
            dict(env) if env is not None else {k: v for k, v in os.environ.items() if k in ENV_KEYS}
        )
        self.env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        self.timeout = timeout

    @property
    def installed(self) -> bool:
        return shutil.which(self.binary, path=self.env["PATH"]) is not None

    # -- containers -----------------------------------------------------------------------

    def run(self, spec: ContainerSpec) -> str:
        """Create and start the container detached; returns its id. Raises ContainerError
        (also if a container of that name exists: remove it first)."""
        for mount in spec.mounts:
            if mount.create:
                os.makedirs(mount.source, exist_ok=True)
        argv = [
            "run",
            "--detach",
            "--name",
            spec.name,
            "--network",
            spec.network,
            f"--pull={spec.pull}",
        ]
        if spec.init:
            argv.append("--init")
        for mount in spec.mounts:
            argv += ["--volume", mount.volume_arg()]
        for key, value in spec.env.items():
            argv += ["--env", f"{key}={value}"]
        for key, value in spec.labels.items():
            argv += ["--label", f"{key}={value}"]
        argv += [*spec.options, spec.image, *spec.run_command]
        return self._ok(argv, f"{self.name} run {spec.name}").stdout.strip()

    def inspect(self, name: str) -> ContainerInfo:
        """The container's state; state ABSENT if there is no such container."""
        # only the fields read here: the whole answer can pass the 16 KiB output tail
        outcome = self._call(["container", "inspect", "--format", _INSPECT_FORMAT, name])
        if outcome.code != 0:
            if _absent(outcome):
                return ContainerInfo(name, State.ABSENT, "absent", None, None, "", {})
            if _STORAGE_LOST in outcome.stderr.lower():
                # not running, and in the way of a new one of its name: start removes it
                return ContainerInfo(name, State.STOPPED, "storage-lost", None, None, "", {})
            raise ContainerError(f"{self.name} inspect {name} failed", outcome.stderr)
        try:
            data = json.loads(outcome.stdout.strip().splitlines()[0])
        except (ValueError, IndexError, KeyError, AttributeError) as exc:
            raise ContainerError(
                f"{self.name} inspect {name}: unreadable answer", outcome.stdout
            ) from exc
        state = data.get("State") or {}
        status = str(state.get("Status", "unknown")).lower()
        config = data.get("Config") or {}
        return ContainerInfo(
            name=name,
            state=State.RUNNING if status == "running" else State.STOPPED,
            status=status,
            pid=state.get("Pid") or None,
            exit_code=state.get("ExitCode"),
            image=str(data.get("ImageName") or config.get("Image") or ""),
            labels=dict(config.get("Labels") or {}),
        )

    def exists(self, name: str) -> bool:
        return self.inspect(name).state is not State.ABSENT

    def stop(self, name: str, *, grace: float = 10.0) -> None:
        """Stop it: SIGTERM, then SIGKILL after grace seconds. Stopping a container that is
        not running, or absent, succeeds."""
        outcome = self._call(
            ["stop", "--time", str(max(0, int(grace))), name], timeout=grace + self.timeout
        )
        if (
            outcome.code != 0
            and not _absent(outcome)
            and (self.inspect(name).state is State.RUNNING)
        ):
            raise ContainerError(f"{self.name} stop {name} failed", outcome.stderr)

    def rm(self, name: str) -> None:
        """Remove it (killing it if it still runs); removing an absent one succeeds."""
        outcome = self._call(["rm", "--force", name])
        if outcome.code != 0 and not _absent(outcome):
            raise ContainerError(f"{self.name} rm {name} failed", outcome.stderr)

    def exec(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = ENGINE_TIMEOUT,
        stdin: bytes = b"",
        detach: bool = False,
    ) -> ProcessOutcome:
        """Run argv inside the container (no shell); Exit.TIMEOUT if it outlives timeout.
        On a timeout the engine's client is killed; the engine ends the exec session.
        Exit.NOT_EXECUTABLE when the container is not running or does not exist: the
        engine could not start argv at all (_NO_EXEC). `detach`: leave it running there
        (the engine answers once it started)."""
        args = ["exec"]
        if detach:
            args.append("--detach")
        if stdin:
            args.append("--interactive")
        for key, value in (env or {}).items():
            args += ["--env", f"{key}={value}"]
        args += [name, *argv]
        outcome = self._call(args, timeout=timeout, stdin=stdin)
        if (
            outcome.exit is Exit.EXITED
            and outcome.code in _NO_EXEC_CODES
            and any(marker in outcome.stderr.lower() for marker in _NO_EXEC)
        ):
            return ProcessOutcome(
                Exit.NOT_EXECUTABLE,
                outcome.code,
                outcome.stdout,
                f"container {name} is not running: {outcome.stderr.strip()}",
                outcome.duration,
            )
        if (
            outcome.exit is Exit.EXITED
            and outcome.code in (126, 127)
            and (
                "executable file" in outcome.stderr
                or "no such file" in outcome.stderr.lower()
                or "permission denied" in outcome.stderr.lower()
            )
        ):
            kind = Exit.NOT_FOUND if outcome.code == 127 else Exit.NOT_EXECUTABLE
            return ProcessOutcome(
                kind, outcome.code, outcome.stdout, outcome.stderr, outcome.duration
            )
        return outcome

    # -- images ---------------------------------------------------------------------------

    def import_image(self, tarball: str, reference: str, *, cmd: Sequence[str] = ()) -> None:
        """Make an image from a root filesystem tarball (no registry needed)."""
        args = ["import"]
        if cmd:
            args += ["--change", "CMD " + json.dumps(list(cmd))]
        self._ok([*args, tarball, reference], f"{self.name} import {reference}")

    def image_exists(self, reference: str) -> bool:
        return self._call(["image", "inspect", reference]).code == 0

    def rmi(self, reference: str) -> None:
        outcome = self._call(["rmi", "--force", reference])
        if outcome.code != 0 and self.image_exists(reference):
            raise ContainerError(f"{self.name} rmi {reference} failed", outcome.stderr)

    # -- plumbing -------------------------------------------------------------------------

    def _call(
        self, args: Sequence[str], *, timeout: float | None = None, stdin: bytes = b""
    ) -> ProcessOutcome:
        outcome = run_process(
            [self.binary, *self.global_args, *args],
            env=self.env,
            timeout=self.timeout if timeout is None else timeout,
            stdin=stdin,
        )
        if outcome.exit in (Exit.NOT_FOUND, Exit.NOT_EXECUTABLE):
            raise ContainerError(f"container engine {self.binary} cannot run", outcome.stderr)
        return outcome

    def _ok(self, args: Sequence[str], what: str) -> ProcessOutcome:
        outcome = self._call(args)
        if outcome.exit is Exit.TIMEOUT:
            raise ContainerError(f"{what} timed out after {self.timeout:g} s", outcome.stderr)
        if outcome.code != 0:
            raise ContainerError(f"{what} failed (exit {outcome.code})", outcome.stderr)
        return outcome


def _absent(outcome: ProcessOutcome) -> bool:
    text = outcome.stderr.lower()
    return any(marker in text for marker in _NO_SUCH)


class ContainerLauncher:
    """A Launcher that runs an agent inside a container: OcfRunner(launcher=...,
    check_installed=False) runs a bundle's inner OCF agent through the container's
    executor (`remote`, see agents/remote.py) or else with the engine's exec."""

    def __init__(
        self, engine: ContainerEngine, container: str, remote: RemoteExecutor | None = None
    ) -> None:
        self.engine = engine
        self.container = container
        self.remote = remote

    def __call__(
        self, argv: Sequence[str], *, env: Mapping[str, str], timeout: float, stdin: bytes = b""
    ) -> ProcessOutcome:
        if self.remote is not None:
            outcome = self.remote.run(argv, env=env, timeout=timeout, stdin=stdin)
            if outcome is not None:
                return outcome
        try:
            return self.engine.exec(self.container, argv, env=env, timeout=timeout, stdin=stdin)
        except ContainerError as exc:
            return ProcessOutcome(Exit.NOT_EXECUTABLE, None, "", str(exc), 0.0)
