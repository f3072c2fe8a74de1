"""SSH backend on paramiko's Transport: one TCP_NODELAY socket (or a ProxyJump channel), a host
key check against known_hosts, public-key auth, then one exec channel per command.

Every step runs under one Watchdog, so a host that never speaks, or drips bytes, ends at the
deadline. Failures are classified: no TCP/handshake -> UnreachableError, key -> HostKeyError,
auth -> AuthError, deadline once connected -> DeadlineError.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from pathlib import Path

import paramiko

from driftcheck import shell
from driftcheck.backends.auth import authenticate
from driftcheck.backends.hostkeys import KnownHosts
from driftcheck.backends.options import TransportOptions, become_argv
from driftcheck.backends.proxy import DeadlineKill, ProxyProcess
from driftcheck.backends.pump import pump
from driftcheck.backends.target import Route, Target, resolve
from driftcheck.backends.watchdog import Watchdog
from driftcheck.errors import DeadlineError, TransportError, UnreachableError
from driftcheck.model import CommandResult, Host

_HANDSHAKE_ERRORS = (paramiko.SSHException, OSError, EOFError)


def connect(host: Host, options: TransportOptions, deadline: float) -> SSHBackend:
    route = resolve(host, options.ssh_config, deadline)
    watchdog = Watchdog(deadline)
    transports: list[paramiko.Transport] = []
    proxy: ProxyProcess | None = None
    try:
        # known_hosts first: a server never waits on a connection while the client parses.
        for hop in (*route.jumps, route.target):
            _known_hosts(options, hop).preload(deadline)
        first = _first(route)
        if first.proxy_command:
            proxy = _spawn(first, first.proxy_command, watchdog)
        sock: socket.socket | paramiko.Channel = (
            proxy.sock if proxy else _tcp(first, deadline, watchdog)
        )
        for hop in (*route.jumps, route.target):
            via = f"via jump host {hop}: " if hop is not route.target else ""
            try:
                transport = _session(
                    sock, hop, options, deadline=deadline, watchdog=watchdog, via=via
                )
            except UnreachableError as exc:
                raise _with_proxy_stderr(exc, proxy if hop is first else None) from exc
            transports.append(transport)
            if hop is not route.target:
                sock = _forward(transport, _next_hop(route, hop), deadline, watchdog, via)
    except BaseException:
        watchdog.cancel()
        _close_all(transports)
        if proxy is not None:
            proxy.release()
        raise
    return SSHBackend(route.target, transports, watchdog, options, host, proxy=proxy)


class SSHBackend:
    def __init__(
        self,
        target: Target,
        transports: list[paramiko.Transport],
        watchdog: Watchdog,
        options: TransportOptions,
        host: Host,
        *,
        proxy: ProxyProcess | None = None,
    ) -> None:
        self.target = target
        self._proxy = proxy
        self._transports = transports
        self._watchdog = watchdog
        self._options = options
        self._host = host

    def run(self, argv: Sequence[str], stdin: bytes, deadline: float) -> CommandResult:
        self._watchdog.rearm(deadline)
        command = shell.join(become_argv(self._host, argv))
        transport = self._transports[-1]
        try:
            chan = transport.open_session(timeout=max(0.0, deadline - time.monotonic()))
            try:
                chan.exec_command(command)
                result = pump(chan, stdin, self._options.output_cap, deadline)
            finally:
                chan.close()
        except _HANDSHAKE_ERRORS as exc:
            raise self._lost(exc) from exc
        except DeadlineError as exc:
            raise DeadlineError(f"{self.target}: {exc} ({self._options.timeout:g}s)") from exc
        # rc -1: no exit status came. After a cut at the cap that is ours (we closed the channel,
        # and the server may hang up at once), otherwise a dead transport means a lost host.
        cut = result.truncated
        if self._watchdog.fired or (result.rc == -1 and not cut and not transport.is_active()):
            raise self._lost(None)
        return result

    def close(self) -> None:
        self._watchdog.cancel()
        _close_all(self._transports)
        if self._proxy is not None:
            self._proxy.release()

    def _lost(self, exc: BaseException | None) -> TransportError:
        if self._watchdog.fired:
            return DeadlineError(
                f"{self.target}: command still running at the deadline ({self._options.timeout:g}s)"
            )
        return TransportError(f"{self.target}: connection lost during the command: {exc}")


def _first(route: Route) -> Target:
    return route.jumps[0] if route.jumps else route.target


def _next_hop(route: Route, hop: Target) -> Target:
    hops = (*route.jumps, route.target)
    return hops[hops.index(hop) + 1]


def _spawn(target: Target, command: str, watchdog: Watchdog) -> ProxyProcess:
    """Start the ProxyCommand; at the deadline the watchdog kills it and its children."""
    try:
        proxy = ProxyProcess(command)
    except OSError as exc:
        raise UnreachableError(f"{target}: cannot start ProxyCommand: {exc}") from exc
    watchdog.guard(DeadlineKill(proxy))
    return proxy


def _with_proxy_stderr(exc: UnreachableError, proxy: ProxyProcess | None) -> UnreachableError:
    """A failed handshake through a ProxyCommand: say so, with what the proxy printed."""
    if proxy is None:
        return exc
    said = proxy.stderr_tail()
    detail = f"; it said: {said}" if said else ""
    return UnreachableError(f"{exc} (through ProxyCommand {proxy.command!r}{detail})")


def _tcp(target: Target, deadline: float, watchdog: Watchdog) -> socket.socket:
    where = f"{target.address}:{target.port}"
    try:
        sock = socket.create_connection(
            (target.address, target.port), timeout=max(0.001, deadline - time.monotonic())
        )
    except TimeoutError as exc:
        raise UnreachableError(f"{where}: TCP connect timed out") from exc
    except OSError as exc:
        raise UnreachableError(f"{where}: cannot connect: {exc.strerror or exc}") from exc
    # Nagle + delayed ACK cost ~40 ms per round trip of the small handshake packets (measured:
    # connect+auth took 68 ms without TCP_NODELAY, 24 ms with it).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    watchdog.guard(sock)
    return sock


def _session(
    sock: socket.socket | paramiko.Channel,
    hop: Target,
    options: TransportOptions,
    *,
    deadline: float,
    watchdog: Watchdog,
    via: str,
) -> paramiko.Transport:
    transport = paramiko.Transport(sock)
    watchdog.guard(transport)
    try:
        known = _known_hosts(options, hop)
        name, port = hop.known_hosts_name  # the HostKeyAlias, when there is one
        security = transport.get_security_options()
        offered = list(security.key_types)
        security.key_types = known.host_key_algorithms(name, port, offered, deadline)
        key = _handshake(transport, hop, deadline, watchdog, via)
        known.verify(name, port, key, deadline)
        authenticate(transport, hop, deadline, watchdog, via)
    except BaseException:
        transport.close()
        raise
    return transport


def _handshake(
    transport: paramiko.Transport, hop: Target, deadline: float, watchdog: Watchdog, via: str
) -> paramiko.PKey:
    """Banner and key exchange; returns the host key the server proved it holds."""
    where = f"{via}{hop.address}:{hop.port}"
    remaining = max(0.001, deadline - time.monotonic())
    transport.banner_timeout = remaining
    transport.handshake_timeout = remaining
    try:
        transport.start_client(timeout=remaining)
        if watchdog.fired:
            raise EOFError
        return transport.get_remote_server_key()  # raises unless the key exchange completed
    except _HANDSHAKE_ERRORS as exc:
        if watchdog.fired or time.monotonic() >= deadline:
            raise UnreachableError(f"{where}: no SSH handshake before the deadline") from exc
        raise UnreachableError(f"{where}: SSH handshake failed: {_reason(exc)}") from exc


def _forward(
    transport: paramiko.Transport, nxt: Target, deadline: float, watchdog: Watchdog, via: str
) -> paramiko.Channel:
    try:
        return transport.open_channel(
            "direct-tcpip",
            (nxt.address, nxt.port),
            ("127.0.0.1", 0),
            timeout=max(0.001, deadline - time.monotonic()),
        )
    except _HANDSHAKE_ERRORS as exc:
        if watchdog.fired:
            raise UnreachableError(f"{via}no tunnel to {nxt} before the deadline") from exc
        raise UnreachableError(f"{via}cannot open a tunnel to {nxt}: {_reason(exc)}") from exc


def _known_hosts(options: TransportOptions, hop: Target) -> KnownHosts:
    if options.known_hosts is not None:
        files: tuple[Path, ...] = (options.known_hosts,)
    else:
        user = hop.known_hosts_files or (Path("~/.ssh/known_hosts").expanduser(),)
        files = (*user, *hop.global_known_hosts_files)
    return KnownHosts(files, files[0], options.accept_new_host_keys)


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _close_all(transports: list[paramiko.Transport]) -> None:
    for transport in reversed(transports):
        transport.close()
