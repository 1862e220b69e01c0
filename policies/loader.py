"""Reads the TOML packs shipped in `policies/packs/` and resolves `extends`."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from pydantic import ValidationError

from policies.errors import PackInvalidError, PackNotFoundError
from policies.models import BothHomesRule, Nation, Pack, PackId

PACK_DIR = Path(__file__).parent / "packs"
NATION_NAMES: dict[Nation, str] = {
    "ENG": "England",
    "WLS": "Wales",
    "SCT": "Scotland",
    "NIR": "Northern Ireland",
}


def pack_ids(directory: Path = PACK_DIR) -> tuple[PackId, ...]:
    """Ids of every pack in `directory`, sorted."""
    return tuple(sorted(p.stem for p in directory.glob("*.toml")))


def read_raw_pack(pack_id: PackId, directory: Path = PACK_DIR) -> Pack:
    """One pack as written, before inheritance.

    Raises:
        PackNotFoundError: no such file.
        PackInvalidError: the file is not valid TOML or breaks the schema.
    """
    path = directory / f"{pack_id}.toml"
    if not path.is_file():
        known = ", ".join(pack_ids(directory)) or "none"
        raise PackNotFoundError(f"unknown authority {pack_id!r} (known: {known})")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        pack = Pack.model_validate(data)
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise PackInvalidError(f"{path.name}: {exc}") from exc
    if pack.id != pack_id:
        raise PackInvalidError(f"{path.name}: id {pack.id!r} does not match the file name")
    return pack


def with_both_homes_factor(pack: Pack) -> Pack:
    """The pack with its `both_homes_factor` setting applied to every both-homes rule."""
    factor = pack.both_homes_factor
    if factor is None:
        return pack
    rules = tuple(
        r.model_copy(update={"factor": factor}) if isinstance(r, BothHomesRule) else r
        for r in pack.rules
    )
    return pack.model_copy(update={"rules": rules})


def resolve(pack: Pack, directory: Path = PACK_DIR, _chain: tuple[str, ...] = ()) -> Pack:
    """The pack with its base's rules merged in: own rules replace base rules of the same id.

    The pack's settings (`both_homes_factor`, `statutory_visits`) apply to inherited rules too.

    Raises:
        PackInvalidError: a cycle of `extends`, or `omit` names a rule the base lacks.
    """
    if pack.extends is None:
        return with_both_homes_factor(pack)
    if pack.id in _chain:
        raise PackInvalidError(f"pack {pack.id}: extends cycle {' -> '.join(_chain)}")
    base = resolve(read_raw_pack(pack.extends, directory), directory, (*_chain, pack.id))
    if base.nation != pack.nation:
        raise PackInvalidError(
            f"pack {pack.id} is for {NATION_NAMES[pack.nation]} but extends {base.id}, a pack "
            f"for {NATION_NAMES[base.nation]} whose rules cite that nation's law: give it a "
            f"base pack for {NATION_NAMES[pack.nation]}"
        )
    base_ids = {rule.id for rule in base.rules}
    missing = [rid for rid in pack.omit if rid not in base_ids]
    if missing:
        raise PackInvalidError(f"pack {pack.id}: omit names unknown rules {missing}")
    own = {rule.id for rule in pack.rules}
    inherited = tuple(r for r in base.rules if r.id not in own and r.id not in pack.omit)
    documents = {d.id: d for d in (*base.documents, *pack.documents)}
    merged = pack.model_copy(
        update={
            "rules": (*inherited, *pack.rules),
            "closure_days": tuple(sorted({*base.closure_days, *pack.closure_days})),
            "documents": tuple(documents.values()),
            "both_homes_factor": pack.both_homes_factor or base.both_homes_factor,
            "statutory_visits": (*base.statutory_visits, *pack.statutory_visits),
        }
    )
    return with_both_homes_factor(merged)


@cache
def load_pack(pack_id: PackId, directory: Path = PACK_DIR) -> Pack:
    """The resolved pack with this id.

    Raises:
        PackNotFoundError: no such pack.
        PackInvalidError: the pack or a base of it is invalid.
    """
    return resolve(read_raw_pack(pack_id, directory), directory)
