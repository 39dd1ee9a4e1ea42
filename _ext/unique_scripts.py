"""Sphinx extension of the book: every inline ``<script>`` appears once on a page.

Sphinx 7.4 writes an inline script (a ``body`` and no file) twice on every page
when an extension registers it after the builder started: once from the
builder's list and once from the registry, where ``None`` has become ``""``,
so the two do not compare equal. sphinx-thebe's script declares
``const THEBE_JS_URL``, and its second copy throws "Identifier 'THEBE_JS_URL'
has already been declared" in every reader's console (found by
``make browser-test``). This keeps the first of the scripts that are the same
file or the same body with the same attributes.
"""

__all__ = ["setup"]


def _script_identity(script):
    filename = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {})
    return filename, tuple(sorted((str(name), str(value)) for name, value in attributes.items()))


def _drop_repeated_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        identity = _script_identity(script)
        if identity not in seen:
            seen.add(identity)
            unique.append(script)
    # A new list: the one in the context is the builder's own, shared by every page.
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _drop_repeated_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
