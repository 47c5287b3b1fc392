"""boundaryline: tells professional networking messages from pestering and inappropriate propositions."""

from boundaryline.predict import Score, Scorer, explain, load_scorer, score_messages

__all__ = ["Score", "Scorer", "explain", "load_scorer", "score_messages"]
__version__ = "0.1.0"
