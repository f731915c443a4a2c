"""The HTML pages and the SVG chart, rendered from the Jinja2 templates in bot/web/templates.

One :class:`jinja2.Environment` per process, built on first use (nothing is read at import
time). It escapes every value (``autoescape=True``, for the SVG too) and refuses a variable
that is not given (``StrictUndefined``): a template never shows a blank where data was
expected. The only markup that is not escaped is the one written in the templates.

Every page runs under the strict Content-Security-Policy set in app.py: the templates hold
no inline script or style, no ``style`` attribute and no ``on*`` handler; the code and the
layout are the files of bot/web/static.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# French typography: a no-break space before « % » (and the number never wraps away from it).
NBSP = "\u00a0"

# MarkupSafe writes ' and " as &#39; and &#34;; the pages wrote them as html.escape does.
# The same characters either way: kept as before, so the markup does not change.
_ENTITIES = (("&#39;", "&#x27;"), ("&#34;", "&quot;"))


def percent(value: object) -> str:
    """« 44 % » with a no-break space (the ``percent`` filter of the templates)."""
    return f"{value}{NBSP}%"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The process's template environment (built once, on first use)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["percent"] = percent
    return env


def render(template_name: str, **context: Any) -> str:
    """``template_name`` rendered with ``context``, every value escaped."""
    text = environment().get_template(template_name).render(**context)
    for entity, usual in _ENTITIES:
        text = text.replace(entity, usual)
    return text
