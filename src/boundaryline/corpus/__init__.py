"""Making the corpus: a data-making step run by hand (``boundaryline build-corpus``), never by scoring.

``generate`` composes the seeded generated messages; ``build`` assembles ``data/corpus/*.csv`` from the
authored files in ``data/raw/``. Nothing in the scoring, training or service path imports this package,
and the wheel leaves it out: it works in a checkout of the repository, where ``data/raw/`` is.
"""
