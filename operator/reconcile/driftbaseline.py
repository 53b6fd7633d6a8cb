"""One in-memory drift baseline per (namespace, credential, resource type), shared by the rules on it.

Rules on the same resource type see the same resources: the table keeps one row per resource (its name and
project, stored once) with one column per rule (its value and since), instead of one full baseline per rule
(22 rules over ~47,000 resources were ~164,000 entries of id, name and project strings). Equal values are
one string object (a status field has a handful of distinct values across all resources).

:class:`BaselineTables` hands tables out reference-counted: a rule attaches to the table of its credential
and resource type (moving when its spec moves it), detaches when it goes; the last rule to leave drops the
table. What is persisted does not change: each rule's own ``{id: [value, name, project, since]}`` (see
:meth:`BaselineTable.entries`), which :meth:`BaselineTable.load` reads back.

Pure and thread-safe: passes of several rules use one table at once from worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from .drift import BaselineEntry, RuleView

__all__ = ["BaselineTable", "BaselineTables", "TableKey"]

#: (namespace, credential name, resource type)
TableKey = tuple[str, str, str]
_NAME, _PROJECT, _FIRST = 0, 1, 2
#: Values this long or shorter are shared (statuses, sizes, ids); longer ones are rarely repeated.
_MAX_INTERNED_LENGTH = 64
#: Distinct shared strings before the pool starts over (so stamps of past passes do not pile up).
_MAX_STRINGS = 200_000


class BaselineTable:
    """Rows ``[name, project id, entry of rule 0, entry of rule 1, ...]`` by resource id, where an entry is the
    rule's :class:`BaselineEntry` (value and since; its name and project are the row's own objects)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, list[Any]] = {}
        self._columns: dict[str, int] = {}  # rule name -> index of its entry in every row
        self._fields: dict[str, str] = {}  # rule name -> the field it watches
        self._loaded: set[str] = set()
        self._width = _FIRST  # length of every row
        self._strings: dict[str, str] = {}  # one object per distinct value, since stamp and project id

    # ------------------------------------------------------------------ rules

    def attach(self, rule: RuleView) -> None:
        """Give ``rule`` a column (idempotent; a changed field empties the rule's column)."""
        with self._lock:
            if rule.name in self._columns and self._fields[rule.name] == rule.field:
                return
            if rule.name in self._columns:
                self._clear(self._columns[rule.name])
                self._loaded.discard(rule.name)
            else:
                taken = set(self._columns.values())
                column = next((c for c in range(_FIRST, self._width) if c not in taken), self._width)
                self._columns[rule.name] = column
                if column == self._width:
                    self._width += 1
                    for row in self._rows.values():
                        row.append(None)
            self._fields[rule.name] = rule.field

    def detach(self, rule: str) -> int:
        """Remove ``rule``'s column; the number of rules left on the table."""
        with self._lock:
            column = self._columns.pop(rule, None)
            self._fields.pop(rule, None)
            self._loaded.discard(rule)
            if column is not None:
                self._clear(column)
            return len(self._columns)

    def fields(self) -> tuple[str, ...]:
        """The fields the attached rules watch (what a listing must observe), sorted."""
        with self._lock:
            return tuple(sorted(set(self._fields.values())))

    def rules(self) -> tuple[str, ...]:
        """The attached rules, sorted."""
        with self._lock:
            return tuple(sorted(self._columns))

    def loaded(self, rule: str) -> bool:
        """Whether ``rule``'s column holds its baseline (loaded or evaluated since it attached)."""
        with self._lock:
            return rule in self._loaded

    # ------------------------------------------------------------------ baselines

    def load(self, rule: str, stored: Mapping[str, list[Any]]) -> None:
        """Fill ``rule``'s column from its persisted form ``{id: [value, name, project id, since]}``."""
        with self._lock:
            entries = {}
            for key, value in stored.items():
                entry = BaselineEntry.from_list(value)
                project = self._optional(entry.project_id)
                entries[key] = BaselineEntry(self._string(entry.value), entry.name, project, self._string(entry.since))
        self.store(rule, entries)

    def view(self, rule: str) -> dict[str, BaselineEntry]:
        """``rule``'s baseline as :func:`~daytwo.operator.reconcile.drift.evaluate` takes it (a snapshot)."""
        with self._lock:
            column = self._columns[rule]
            return {key: row[column] for key, row in self._rows.items() if row[column] is not None}

    def store(self, rule: str, baseline: Mapping[str, BaselineEntry]) -> None:
        """Make ``baseline`` (an evaluation's next baseline) ``rule``'s column; rows no rule holds go."""
        with self._lock:
            column = self._columns[rule]
            if len(self._strings) > _MAX_STRINGS:
                self._strings.clear()  # stale stamps and values go; rows keep their own objects
            for key, entry in baseline.items():
                row: list[Any] | None = self._rows.get(key)
                if row is None:
                    row = [entry.name, entry.project_id, *([None] * (self._width - _FIRST))]
                    self._rows[key] = row
                if row[column] is entry:
                    continue  # unchanged since the view it came from
                if (row[_NAME], row[_PROJECT]) != (entry.name, entry.project_id):
                    row[_NAME], row[_PROJECT] = entry.name, entry.project_id
                if entry.name is row[_NAME] and entry.project_id is row[_PROJECT]:
                    row[column] = entry  # shares the row's strings already: no copy
                else:
                    row[column] = BaselineEntry(
                        self._string(entry.value), row[_NAME], row[_PROJECT], self._string(entry.since)
                    )
            gone = [key for key, row in self._rows.items() if row[column] is not None and key not in baseline]
            for key in gone:
                row = self._rows[key]
                row[column] = None
                if all(row[c] is None for c in self._columns.values()):
                    del self._rows[key]
            self._loaded.add(rule)

    def entries(self, rule: str) -> dict[str, list[Any]]:
        """``rule``'s baseline in its persisted form (what ``BaselineStore.save`` writes)."""
        return {key: entry.as_list() for key, entry in self.view(rule).items()}

    def __len__(self) -> int:
        """Resources held for at least one rule."""
        with self._lock:
            return len(self._rows)

    # ------------------------------------------------------------------ internals

    def _clear(self, column: int) -> None:
        others = [c for c in self._columns.values() if c != column]
        for key in [key for key, row in self._rows.items() if row[column] is not None]:
            row = self._rows[key]
            row[column] = None
            if all(row[c] is None for c in others):
                del self._rows[key]

    def _string(self, text: str) -> str:
        return self._strings.setdefault(text, text) if len(text) <= _MAX_INTERNED_LENGTH else text

    def _optional(self, text: str | None) -> str | None:
        return None if text is None else self._string(text)


class BaselineTables:
    """The tables of a process, by (namespace, credential, resource type), reference-counted by rule."""

    def __init__(self, listings_per_credential: int = 1) -> None:
        self._lock = threading.Lock()
        self._tables: dict[TableKey, BaselineTable] = {}
        self._rules: dict[tuple[str, str], TableKey] = {}  # (namespace, rule) -> its table
        self._listings = listings_per_credential
        self._listing_slots: dict[tuple[str, str], threading.BoundedSemaphore] = {}

    def listing_slot(self, namespace: str, credential: str) -> threading.BoundedSemaphore:
        """Held while one raw listing of the credential is fetched and observed: the API's JSON of a resource
        type is several times its observation, so only ``listings_per_credential`` are in memory at once."""
        with self._lock:
            slot = self._listing_slots.get((namespace, credential))
            if slot is None:
                slot = self._listing_slots[(namespace, credential)] = threading.BoundedSemaphore(self._listings)
            return slot

    def attach(self, namespace: str, credential: str, rule: RuleView) -> BaselineTable:
        """The table ``rule`` belongs to, attaching it (and leaving the table it was on, if another)."""
        key = (namespace, credential, rule.resource_type)
        with self._lock:
            previous = self._rules.get((namespace, rule.name))
            if previous is not None and previous != key:
                self._leave(previous, rule.name)
            table = self._tables.get(key)
            if table is None:
                table = self._tables[key] = BaselineTable()
            self._rules[(namespace, rule.name)] = key
            table.attach(rule)
            return table

    def detach(self, namespace: str, rule: str) -> None:
        """``rule`` is gone (deleted, disabled, operator stopping): its column goes; the last rule takes the table."""
        with self._lock:
            key = self._rules.pop((namespace, rule), None)
            if key is not None:
                self._leave(key, rule)

    def _leave(self, key: TableKey, rule: str) -> None:
        table = self._tables.get(key)
        if table is not None and table.detach(rule) == 0:
            del self._tables[key]

    def keys(self) -> list[TableKey]:
        """The tables held, sorted."""
        with self._lock:
            return sorted(self._tables)

    def __iter__(self) -> Iterator[BaselineTable]:
        with self._lock:
            return iter(list(self._tables.values()))
