"""``resolve --check``: would the lock at ``-o PATH`` change, and which pins.

Up to date means byte-identical: the text ``resolve`` would write is the text already there,
header included, so a lock resolved from another snapshot, or under other rules or flags, is
out of date even where every pin is the same. The pins that differ are shown as a short diff,
one ``- name==old`` / ``+ name==new`` line per side, read from both texts by the one lock reader
(:mod:`resolve.lock.reader`), whatever the format.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from db.errors import SneakernetError
from resolve.inputs.requirements import InputError
from resolve.lock.files import is_regular_file
from resolve.lock.reader import LockPin, parse_lock_text

__all__ = ["LockCheck", "check_lock", "checked_path"]


def checked_path(output: Path | None) -> Path:
    """The lock ``--check`` compares with: ``-o PATH``, an existing regular file."""
    if output is None:
        raise InputError(
            "--check needs the lock to compare with",
            hint="name it with -o FILE, e.g. resolve -r requirements.in -o requirements.txt "
            "--check",
        )
    if not is_regular_file(output):
        raise InputError(
            f"--check: there is no lock at {output} to compare with",
            hint="run the command without --check to write it",
        )
    return output


@dataclass(frozen=True, slots=True)
class LockCheck:
    """The outcome: whether the bytes are the same; when not, the pin diff lines and how many
    pins differ (``pins_unreadable`` says why the old lock's pins could not be compared)."""

    up_to_date: bool
    diff: tuple[str, ...] = ()
    changed: int = 0
    pins_unreadable: str | None = None

    def summary(self, path: Path) -> str:
        """One line for stderr."""
        if self.up_to_date:
            return f"{path} is up to date"
        if self.pins_unreadable is not None:
            return f"{path} would change; its pins cannot be compared: {self.pins_unreadable}"
        if not self.changed:
            return f"{path} would change: the same pins, but its header, hashes or notes differ"
        noun = "pin differs" if self.changed == 1 else "pins differ"
        return f"{path} would change: {self.changed} {noun}"


def check_lock(path: Path, text: str) -> LockCheck:
    """Compare ``text`` (the lock ``resolve`` would write) with the lock at ``path``."""
    try:
        old = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"--check: cannot read {path}: {exc.strerror or exc}",
            hint="give -o a lock this user can read",
        ) from exc
    if old == text.encode("utf-8"):
        return LockCheck(up_to_date=True)
    try:
        before = _pins(old.decode("utf-8-sig"), path)
    except (UnicodeDecodeError, SneakernetError) as exc:
        reason = exc.message if isinstance(exc, SneakernetError) else str(exc)
        return LockCheck(up_to_date=False, pins_unreadable=reason.splitlines()[0])
    after = _pins(text, path)
    diff: list[str] = []
    changed = 0
    for name in sorted(before.keys() | after.keys()):
        old_pin, new_pin = before.get(name), after.get(name)
        if old_pin is not None and new_pin is not None and old_pin.version == new_pin.version:
            continue
        changed += 1
        where = f" ; {name[1]}" if name[1] else ""
        diff += [f"- {old_pin}{where}"] if old_pin is not None else []
        diff += [f"+ {new_pin}{where}"] if new_pin is not None else []
    return LockCheck(up_to_date=False, diff=tuple(diff), changed=changed)


def _pins(text: str, path: Path) -> dict[tuple[str, str], LockPin]:
    """Pins by name and marker: a universal lock pins a project once per marker."""
    lock = parse_lock_text(text, path, need_files=False)
    return {(canonicalize_name(pin.name), pin.marker or ""): pin for pin in lock.pins}
