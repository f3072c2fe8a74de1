"""The typed records every stage passes on, and the words they share.

host: an inventory host and its variables; declared: the declared state; observed: what a host
said (a command's result, the collectors' records); results: findings and host results;
vocab: every status, category, kind and field named once; document: the report document.
"""

from __future__ import annotations

from driftcheck.model.declared import (
    ContainerSpec,
    DeclaredState,
    FileSpec,
    HostSpec,
    Origin,
    PackageSpec,
    ServiceSpec,
)
from driftcheck.model.host import (
    NO_VAULT_SECRET,
    Host,
    Secret,
    Unsafe,
    Vars,
    VarsDict,
    Vaulted,
    secrets_in,
)
from driftcheck.model.observed import (
    CommandResult,
    ConfFile,
    ContainerState,
    FileState,
    HostFacts,
    Observed,
    Outcome,
    Package,
    Section,
    ServiceState,
    Uncollected,
    uncollected,
)
from driftcheck.model.results import (
    Evidence,
    Fact,
    Finding,
    HostResult,
    PeerNote,
)

__all__ = [
    "NO_VAULT_SECRET",
    "CommandResult",
    "ConfFile",
    "ContainerSpec",
    "ContainerState",
    "DeclaredState",
    "Evidence",
    "Fact",
    "FileSpec",
    "FileState",
    "Finding",
    "Host",
    "HostFacts",
    "HostResult",
    "HostSpec",
    "Observed",
    "Origin",
    "Outcome",
    "Package",
    "PackageSpec",
    "PeerNote",
    "Secret",
    "Section",
    "ServiceSpec",
    "ServiceState",
    "Uncollected",
    "Unsafe",
    "Vars",
    "VarsDict",
    "Vaulted",
    "secrets_in",
    "uncollected",
]
