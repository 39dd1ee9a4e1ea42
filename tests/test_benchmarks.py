"""The benchmark scripts refer only to names they define: a cheap check of code CI does not run.

The benchmarks take minutes and are run by hand, so a function deleted while tidying one (as
``full_run`` once was) would otherwise go unnoticed until someone asked for ``--full``.
"""

import builtins
import pathlib
import symtable

import pytest

SCRIPTS = sorted((pathlib.Path(__file__).parent.parent / "benchmarks").glob("*.py"))


def _functions(table):
    for child in table.get_children():
        if child.get_type() == "function":
            yield child
        yield from _functions(child)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_every_global_a_benchmark_uses_is_defined(script):
    module = symtable.symtable(script.read_text(), str(script), "exec")
    defined = {symbol.get_name() for symbol in module.get_symbols() if symbol.is_assigned() or symbol.is_imported()}
    defined |= set(dir(builtins)) | {"__file__", "__name__", "__doc__"}
    missing = {
        f"{function.get_name()} uses {name}"
        for function in _functions(module)
        for name in function.get_globals()
        if name not in defined
    }
    assert not missing, f"{script.name}: undefined names: {sorted(missing)}"


def test_the_check_finds_an_undefined_name():
    module = symtable.symtable("def main():\n    full_run()\n", "broken.py", "exec")
    assert "full_run" in next(_functions(module)).get_globals()
