"""billcx render: planned messages into a send bundle (.eml, SMS rows, PDF letters, manifest).

Public API::

    from billcx.render import render, write_bundle, preview, lint_templates, init_templates
    result = render(schedule, CleanData.load("clean"), settings=RenderSettings(...))
    write_bundle(result, "bundle")
"""

from __future__ import annotations

from billcx.render.bundle import write_bundle
from billcx.render.lint import Finding, lint_templates
from billcx.render.pipeline import render
from billcx.render.preview import PreviewMessage, preview
from billcx.render.result import RenderCounts, RenderResult
from billcx.render.scaffold import init_templates
from billcx.render.settings import RenderSettings

__all__ = ["Finding", "PreviewMessage", "RenderCounts", "RenderResult", "RenderSettings", "init_templates",
           "lint_templates", "preview", "render", "write_bundle"]
