"""Model-selection study (``make study``): configurations of the pipeline judged on every frozen set and on
each authored voice held out whole (leave one voice out), so no choice rests on one number.

Results: ``reports/study/model_selection.json`` and a Markdown table on standard output; summarised in
docs/model-selection.md. Takes ~10-20 minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import FeatureUnion

from boundaryline.data import load_corpus
from boundaryline.evaluate import evaluate, headline
from boundaryline.features import FUNCTION_WORDS, char_vectoriser, word_vectoriser
from boundaryline.files import write_atomic
from boundaryline.model import build_pipeline
from boundaryline.settings import get_settings
from boundaryline.train import training_data


def union(word: Any = None, char: Any = "drop") -> FeatureUnion:
    return FeatureUnion([("word", word or word_vectoriser()), ("char", char)])


CONFIGS: dict[str, dict[str, Any]] = {
    "word 1-2, function words in context, C=10": {"tfidf": union(), "clf__C": 10.0},
    "... C=3": {"tfidf": union(), "clf__C": 3.0},
    "... C=30": {"tfidf": union(), "clf__C": 30.0},
    "word 1-2, every n-gram": {"tfidf": union(word_vectoriser(contextual=False)), "clf__C": 10.0},
    "stop words removed": {
        "tfidf": union(word_vectoriser(contextual=False).set_params(stop_words="english")),
        "clf__C": 10.0,
    },
    "word 1-3, in context": {"tfidf": union(word_vectoriser((1, 3))), "clf__C": 10.0},
    "min_df=3": {"tfidf": union(word_vectoriser().set_params(min_df=3)), "clf__C": 10.0},
    "max_df=0.3": {"tfidf": union(word_vectoriser().set_params(max_df=0.3)), "clf__C": 10.0},
    "linear tf": {"tfidf": union(word_vectoriser().set_params(sublinear_tf=False)), "clf__C": 10.0},
    "no class weights": {"tfidf": union(), "clf__C": 10.0, "clf__class_weight": None},
    "+ char 2-5 (content words)": {"tfidf": union(char=char_vectoriser()), "clf__C": 10.0},
}


def function_word_terms(pipeline: Any, k: int = 30) -> dict[str, int]:
    clf, names = pipeline.named_steps["clf"], pipeline.named_steps["tfidf"].get_feature_names_out()
    out = {}
    for label in ("pestering", "inappropriate_proposition"):
        top = np.argsort(-clf.coef_[list(clf.classes_).index(label)])[:k]
        out[label] = int(sum(FUNCTION_WORDS.issuperset(str(names[j]).split("__", 1)[1].split()) for j in top))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], help="run the configurations whose name contains these")
    args = parser.parse_args(argv)
    settings = get_settings()
    data = training_data(settings)
    corpus = load_corpus(settings)
    voice = corpus["scenario"].str.extract(r"^(v[a-z]+)-")[0]
    voices = sorted(v for v in voice.dropna().unique() if (voice == v).sum() >= 100)
    results: dict[str, Any] = {}
    rows = []
    for name, params in CONFIGS.items():
        if args.only and not any(o in name for o in args.only):
            continue
        start = time.perf_counter()
        model = clone(build_pipeline(**params)).fit(data.train["text"].tolist(), data.train["label"].tolist())
        seconds = time.perf_counter() - start
        sets = evaluate(model, data.sets)[0]
        held_out = {}
        for v in voices:
            out = data.train[~data.train["scenario"].str.startswith(f"{v}-")]
            fitted = clone(build_pipeline(**params)).fit(out["text"].tolist(), out["label"].tolist())
            held_out[v] = evaluate(fitted, {v: corpus[voice == v]})[0][v]
        lovo = {k: float(np.nanmean([headline(m)[k] for m in held_out.values()])) for k in headline(sets["test"])}
        results[name] = {"fit_seconds": seconds, "sets": sets, "leave_one_voice_out": held_out, "lovo_mean": lovo,
                         "function_words_in_top_30": function_word_terms(model)}  # fmt: skip
        real = headline(sets["real_test"]) if "real_test" in sets else {}
        rows.append({
            "configuration": name, "test F1": headline(sets["test"])["macro-F1"],
            "challenge F1": headline(sets["challenge"])["macro-F1"], "real F1": real.get("macro-F1"),
            "real prof. flagged": real.get("professional flagged"), "real prop. recall": real.get("recall proposition"),
            "LOVO F1": lovo["macro-F1"], "LOVO prof. flagged": lovo["professional flagged"],
            "LOVO pest. recall": lovo["recall pestering"], "fw": "{pestering} / {inappropriate_proposition}".format(**results[name]["function_words_in_top_30"]),
            "fit s": round(seconds),
        })  # fmt: skip
        print(f"{name}: done in {seconds:.0f} s", flush=True)
    out_dir = settings.reports_dir / "study"
    write_atomic(out_dir / "model_selection.json", json.dumps(results, indent=1, default=float) + "\n")
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".3f"))
    print(f"\nwritten to {out_dir / 'model_selection.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
