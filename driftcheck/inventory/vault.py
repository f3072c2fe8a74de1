"""Ansible Vault, through ansible-core's own code (the optional extra `driftcheck[vault]`).

Never a cipher of our own: `--vault-password-file` and `--vault-id` are read as Ansible's
`CLI.setup_vault_secrets` reads them (password files, executable password scripts,
`label@file`), with its own functions but for one thing: a password script runs, and a pipe or
FIFO given as a password file is read, within bounds (a time limit, an output cap). Values are
opened by its `VaultLib`. Without secrets a vaulted value stays opaque (`Vaulted`) and a whole
vaulted file is refused with Ansible's own words.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from driftcheck.errors import UsageError, VaultError
from driftcheck.inventory.programs import SECRET_OUTPUT_CAP, TIMEOUT, read_within, run_program
from driftcheck.model import Secret, Vaulted

HEADER = "$ANSIBLE_VAULT;"
NO_SECRETS = "Attempting to decrypt but no vault secrets found"
NO_MATCH = "Decryption failed (no vault secrets were found that could decrypt)"
INSTALL = "vault secrets need ansible-core: pip install 'driftcheck[vault]'"


@dataclass(frozen=True)
class Vault:
    """Decrypts with the secrets named on the command line; `args` repeats them for
    `ansible-inventory` when an inventory plugin is run."""

    args: tuple[str, ...]
    _decrypt: Callable[[str], bytes] = field(repr=False, compare=False)
    # every plain text opened so far: a declared file holding one is compared by digest only
    opened: set[str] = field(default_factory=set, repr=False, compare=False)

    def plain(self, ciphertext: str) -> str | None:
        """The plain text, or None when no secret given opens it."""
        try:
            return self._decrypt(ciphertext).decode("utf-8", "surrogateescape")
        except Exception:  # any of ansible-core's vault errors means: this secret cannot open it
            return None


# Ansible reads these without any option on its command line; so do we (ansible.cfg's
# vault_password_file is read too once ansible-core is asked for secrets)
ENVIRONMENT = ("ANSIBLE_VAULT_PASSWORD_FILE", "ANSIBLE_VAULT_IDENTITY_LIST")


def open_vault(
    password_files: Sequence[str], vault_ids: Sequence[str], timeout: float = TIMEOUT
) -> Vault | None:
    """None when no secret was named: vaulted values then stay opaque. A password script
    may run `timeout` seconds and print SECRET_OUTPUT_CAP bytes; past either it is killed
    (its whole session) and the run stops naming it."""
    if not password_files and not vault_ids and not any(os.environ.get(v) for v in ENVIRONMENT):
        return None
    for vault_id in vault_ids:
        if vault_id.rpartition("@")[2] in ("prompt", "prompt_ask_vault_pass"):
            raise UsageError(f"--vault-id {vault_id}: driftcheck never prompts (runs from cron)")
    decrypt = _ansible_decrypt(list(password_files), list(vault_ids), timeout)
    args = [f"--vault-password-file={f}" for f in password_files]
    args += [f"--vault-id={v}" for v in vault_ids]
    return Vault(tuple(args), decrypt)


def _ansible_decrypt(
    password_files: list[str], vault_ids: list[str], timeout: float
) -> Callable[[str], bytes]:
    # the optional extra is imported only when secrets are named (ansible-core has no types)
    try:
        from ansible.parsing.vault import VaultLib  # type: ignore[import-untyped]  # noqa: PLC0415
    except ImportError:
        raise UsageError(INSTALL) from None
    secrets = _secrets(password_files, vault_ids, timeout)
    if not secrets:
        raise UsageError("vault secrets: none could be read")
    return VaultLib(secrets).decrypt  # type: ignore[no-any-return]


def _secrets(password_files: list[str], vault_ids: list[str], timeout: float) -> list[Any]:
    """CLI.setup_vault_secrets without prompts, a password script run within bounds: a file
    that cannot be read is a warning while another secret can be, as in Ansible."""
    from ansible import constants  # type: ignore[import-untyped]  # noqa: PLC0415
    from ansible.cli import CLI  # type: ignore[import-untyped]  # noqa: PLC0415
    from ansible.errors import AnsibleError  # type: ignore[import-untyped]  # noqa: PLC0415
    from ansible.parsing.dataloader import DataLoader  # type: ignore[import-untyped]  # noqa: PLC0415
    from ansible.utils.display import Display  # type: ignore[import-untyped]  # noqa: PLC0415

    loader = DataLoader()
    files = list(password_files)
    if constants.DEFAULT_VAULT_PASSWORD_FILE:  # ansible.cfg's, or ANSIBLE_VAULT_PASSWORD_FILE
        files.append(constants.DEFAULT_VAULT_PASSWORD_FILE)
    slugs = CLI.build_vault_ids(vault_ids, files, ask_vault_pass=False, auto_prompt=False)
    secrets: list[Any] = []
    failed: Any = None
    for slug in slugs:
        label, filename = CLI.split_vault_id(slug)
        try:
            secret = _file_secret(filename, label, loader, timeout)
        except AnsibleError as exc:
            Display().warning(f"Error getting vault password file ({label}): {exc.message}")
            failed = exc
            continue
        secrets.append((label or constants.DEFAULT_VAULT_IDENTITY, secret))
        loader.set_vault_secrets(secrets)  # a later password file may itself be vaulted
    if failed is not None and not secrets:
        raise UsageError(f"vault secrets: {failed.message}")
    return secrets


def _file_secret(filename: str, label: str | None, loader: Any, timeout: float) -> Any:
    """Ansible's get_file_vault_secret, loaded; a script runs here, within bounds."""
    from ansible.parsing.vault import (  # noqa: PLC0415
        VaultSecret,
        get_file_vault_secret,
        script_is_client,
    )
    from ansible.utils.path import unfrackpath  # type: ignore[import-untyped]  # noqa: PLC0415

    path = unfrackpath(filename, follow=False)
    if os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path):
        return _piped_secret(path, loader, timeout)
    if os.path.isfile(path) and os.stat(path).st_mode & 0o111:
        client = script_is_client(filename)
        argv = [path, "--vault-id", label] if client and label else [path]
        return VaultSecret(_run_script(argv, client, label, timeout))
    if os.path.isfile(path) and os.path.getsize(path) > SECRET_OUTPUT_CAP:
        raise VaultError(
            path, None, f"vault password file larger than {SECRET_OUTPUT_CAP >> 10} KiB"
        )
    secret = get_file_vault_secret(filename=filename, vault_id=label, loader=loader)
    secret.load()
    return secret


def _piped_secret(path: str, loader: Any, timeout: float) -> Any:
    """A pipe or a device (`<(pass show vault)`, a FIFO): FileVaultSecret's reading, within the
    time limit and the cap, so that a FIFO nobody writes to cannot hang a nightly run."""
    from ansible.parsing.vault import VaultSecret, verify_secret_is_not_empty  # noqa: PLC0415

    data = read_within(path, "vault password file", timeout, SECRET_OUTPUT_CAP)
    plain, _ = loader._decrypt_if_vault_data(data.strip())  # a password file may be vaulted
    password = plain.strip(b"\r\n")
    verify_secret_is_not_empty(
        password, msg=f"Invalid vault password was provided from file ({path})"
    )
    return VaultSecret(password)


def _run_script(argv: list[str], client: bool, label: str | None, timeout: float) -> bytes:
    """ScriptVaultSecret's run and checks (a client script answers 2 for an unknown id)."""
    from ansible.errors import AnsibleError  # noqa: PLC0415

    what = "vault password client script" if client else "vault password script"
    result = run_program(argv, argv[0], what, timeout, SECRET_OUTPUT_CAP)
    said = result.stderr.decode("utf-8", "replace").strip()
    if client and result.rc == 2:
        raise AnsibleError(f"{what} {argv[0]} did not find a secret for vault-id={label}: {said}")
    if result.rc != 0:
        raise AnsibleError(f"{what} {argv[0]} returned non-zero ({result.rc}): {said}")
    password = result.stdout.strip(b"\r\n")
    if not password:
        raise AnsibleError(f"Invalid vault password was provided from script ({argv[0]})")
    return password


def open_file(text: str, path: str, vault: Vault | None) -> str:
    """A whole file vaulted (`$ANSIBLE_VAULT;1.1;AES256` first): its plain text, or refused
    as Ansible refuses it. Any other text is returned as it is."""
    if not text.startswith(HEADER):
        return text
    if vault is None:
        raise VaultError(path, 1, NO_SECRETS)
    plain = vault.plain(text)
    if plain is None:
        raise VaultError(path, 1, NO_MATCH)
    return plain


def seal(data: Any, vault: Vault | None, name: str = "") -> Any:
    """Name every Vaulted value after the key that holds it and, with secrets, open it.
    Mappings and lists are changed in place so that line-remembering mappings stay so."""
    if isinstance(data, Vaulted):
        return _open_value(replace(data, name=name), vault)
    if isinstance(data, dict):
        for key, value in data.items():
            data[key] = seal(value, vault, str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            data[index] = seal(value, vault, f"{name}[{index}]")
    return data


def _open_value(value: Vaulted, vault: Vault | None) -> Any:
    if vault is None:
        return value
    plain = vault.plain(value.ciphertext)
    if plain is None:  # as Ansible: fails only if the value is used
        return replace(value, reason="no vault secret given decrypts it")
    return _secret(plain, vault)


def _secret(plain: str, vault: Vault) -> Secret:
    if plain:
        vault.opened.add(plain)
    return Secret(plain)


def mark_secret(data: Any, vault: Vault) -> Any:
    """Every string of a whole vaulted file is a secret."""
    if isinstance(data, str):
        return _secret(data, vault)
    if isinstance(data, dict):
        for key, value in data.items():
            data[key] = mark_secret(value, vault)
    elif isinstance(data, list):
        data[:] = [mark_secret(value, vault) for value in data]
    return data
