"""Every model a file builds, what to build it with, and what of the file that needs.

Reads the source with ``ast``, ``symtable`` and ``tokenize`` only: nothing here imports or
runs the user's code, and ``discover`` never raises for any input string (a file that does
not parse comes back as a ``syntax`` error value). Lines are 1-based. A *slice* is a list of
indexes into ``ast.parse(source).body``, ascending; ``slice_module`` turns one back into a
module the worker compiles and runs.

A straight pipeline of typed stages, each read once by the next:

1. ``parse``: the file parsed once (``Parsed``);
2. ``facts``: per top-level statement, the names it binds and reads, whether it never runs and
   why (the ``effects`` table), its stand-in; import aliases, ``# netviz:`` comments (``Facts``);
3. ``targets``: the factories and the model variables (``Targets``);
4. ``arguments``: what to call each factory with (``Arguments``);
5. ``slices``: each target's slice, and the error that blocks it (``Slices``).
"""

from __future__ import annotations

import ast
from typing import Optional

from netviz_lsp.discovery.arguments import arguments
from netviz_lsp.discovery.facts import facts
from netviz_lsp.discovery.parse import parse, script_module, too_deep
from netviz_lsp.discovery.result import Discovery, Factory, Target
from netviz_lsp.discovery.slices import slices
from netviz_lsp.discovery.targets import targets
from netviz_lsp.graph import BuildError

__all__ = ["Discovery", "Factory", "Target", "discover", "slice_module"]


def discover(source: str, path: str = "<file>", factory_args: Optional[dict[str, list]] = None) -> Discovery:
    """Find every model ``source`` builds; never raises, never runs it.

    Targets are factories (functions that build a model) and module-level variables assigned
    a model (``model = keras.Sequential(...)``, ``gen = make_generator(name="g")``, ``net =
    MyModel()``). A factory's arguments come from, in order: ``factory_args`` (the user's
    ``build.factoryArgs``: factory name -> list or object of arguments), a ``# netviz: args=``
    comment, the file's own top-level call (constant expressions kept as source), then its
    defaults. Statements that download, read or write files, train, plot, loop or sit in the
    main guard never join a slice; a target that needs a value only they make is blocked with
    one ``arguments`` error, unless a ``# netviz: value=EXPR`` comment stands in for it.
    """
    parsed = parse(source, path)
    if isinstance(parsed, BuildError):
        return Discovery(errors=[parsed])
    settings = factory_args if isinstance(factory_args, dict) else {}
    settings = {k: v for k, v in settings.items() if v is not None}
    try:
        known = facts(parsed)
        found = targets(known, settings)
        sliced = slices(known, found, arguments(known, found, settings))
    except (RecursionError, MemoryError):
        return Discovery(errors=[too_deep()])
    return Discovery(
        factories=sliced.targets,
        slice=sorted({i for t in sliced.targets if t.buildable for i in t.slice}),
        errors=sliced.errors,
        replacements={s.index: s.replacement for s in known.statements if s.replacement is not None},
        skipped={s.index: s.effect for s in known.statements if s.effect is not None},
        stand_ins=sliced.stand_ins,
    )


def slice_module(source: str, indexes: list[int], path: str,
                 replacements: Optional[dict[int, str]] = None) -> ast.Module:
    """The module made of ``body[i]`` for ``i`` in ``indexes`` (``body`` as the script runs it:
    the main guard and the functions it runs lifted, ``script.py``), in order, original lines
    kept; a statement in ``replacements`` is replaced by that source, moved to its first line.

    Raises ``SyntaxError``/``ValueError`` if ``source`` or a replacement does not parse
    (``discover`` reported the former and never hands out the latter) and ``ValueError`` for an
    index outside the body (a slice of another version).
    """
    body = script_module(source, path).body  # the statements as the script runs them
    keep = sorted(set(indexes))
    if keep and not (0 <= keep[0] and keep[-1] < len(body)):
        raise ValueError(f"slice {keep} does not fit a module of {len(body)} statements")
    stmts = []
    for i in keep:
        text = (replacements or {}).get(i)
        if text is None:
            stmts.append(body[i])
            continue
        for new in ast.parse(text, path).body:
            ast.increment_lineno(new, body[i].lineno - new.lineno)
            stmts.append(new)
    return ast.Module(body=stmts, type_ignores=[])

