"""The ``boundaryline`` command: thin sub-commands over the package's modules; exit codes are ``ExitCode``."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import shutil
import signal
import sys
from collections.abc import Sequence
from enum import IntEnum
from pathlib import Path

from boundaryline.inbox import FORMATS
from boundaryline.safe_text import printable
from boundaryline.settings import Settings, SettingsProblem, get_settings

log = logging.getLogger("boundaryline")


class ExitCode(IntEnum):
    OK = 0
    PROBLEMS = 1  # the job ran but found problems: invalid data, skipped records (--strict), a refused promotion
    UNUSABLE = 2  # bad usage or an unusable input or output: missing file, unknown format, no model, a full disk
    STOPPED = 130  # Ctrl-C, SIGTERM or SIGHUP


def cmd_validate_data(args: argparse.Namespace, settings: Settings) -> ExitCode:
    from boundaryline.data import (
        datasheet_counts,
        external_counts,
        load_challenge,
        load_corpus,
        real_dm_counts,
        validate_challenge,
        validate_corpus,
        write_datasheet_block,
    )
    from boundaryline.external import load_real_dms, load_real_mail

    corpus, challenge_frame = load_corpus(settings), load_challenge(settings)
    report = validate_corpus(corpus)
    challenge = validate_challenge(challenge_frame, corpus)
    real, dms = load_real_mail(settings), load_real_dms(settings)
    if args.write_datasheet:
        sheet = settings.data_dir / "README.md"
        write_datasheet_block(sheet, "counts", datasheet_counts(corpus, challenge_frame))
        if real is not None:
            write_datasheet_block(sheet, "external", external_counts(real.provenance()))
        if dms is not None:
            write_datasheet_block(sheet, "real_dm", real_dm_counts(dms.provenance()))
    if args.json:
        print(json.dumps({"corpus": report.to_dict(), "challenge": challenge.to_dict()}, indent=2))
    else:
        print(f"corpus: {len(corpus)} messages ({settings.corpus_path})")
        for column, counts in report.counts.items():
            total = sum(counts.values())
            shown = ", ".join(f"{k} {v} ({v / total:.0%})" for k, v in counts.items())
            print(f"  by {column}: {shown}")
        nd = report.near_duplicates
        print(
            f"  near-duplicates (Jaccard ≥ {nd['threshold_jaccard']} on word 5-shingles): {nd['pairs_total']} pairs"
            f" in all, {nd['pairs_across_split']} across the split = {nd['rate_across_split']:.4%} of cross pairs"
        )
        print(f"challenge: {sum(challenge.counts.get('label', {}).values())} messages ({settings.challenge_path})")
        for column in ("label", "edge"):
            print(f"  by {column}: " + ", ".join(f"{k} {v}" for k, v in challenge.counts.get(column, {}).items()))
        if real is None:
            print(f"external real mail: none ({settings.real_mail_dir} and {settings.real_mail_source} are not there)")
        else:
            print(external_counts(real.provenance()).rstrip())
        if dms is None:
            print(f"external real DMs: none ({settings.real_dm_dir} and {settings.real_dm_source} are not there)")
        else:
            print(real_dm_counts(dms.provenance()).rstrip())
        for problem in report.problems + challenge.problems:
            print(f"PROBLEM {problem}")
    problems = len(report.problems) + len(challenge.problems)
    print(f"{problems} problem(s)" if problems else "ok: no problems", file=sys.stderr)
    return ExitCode.PROBLEMS if problems else ExitCode.OK


def cmd_build_corpus(args: argparse.Namespace, settings: Settings) -> ExitCode:
    from boundaryline.corpus.build import assemble_corpus

    corpus, challenge, dropped = assemble_corpus(settings, date_added=args.added)
    print(f"wrote {len(corpus)} corpus rows and {len(challenge)} challenge rows; dropped {dropped} duplicates")
    return ExitCode.OK


def cmd_build_threads(args: argparse.Namespace, settings: Settings) -> ExitCode:
    from boundaryline.corpus.threads import write_threads

    print(f"wrote {write_threads(settings)} threads to {settings.threads_path}")
    return ExitCode.OK


def cmd_generate_corpus(args: argparse.Namespace, settings: Settings) -> ExitCode:
    from boundaryline.corpus.generate import write_generated

    path = settings.raw_dir / "generated_synth.jsonl"
    print(f"wrote {write_generated(path, args.per_family, settings.seed)} generated messages to {path}")
    return ExitCode.OK


def cmd_train(args: argparse.Namespace, settings: Settings) -> ExitCode:
    from boundaryline import registry
    from boundaryline.train import PARAM_GRID, QUICK_GRID, grid_of, train_and_save

    grid = PARAM_GRID
    if args.quick:  # the parameters of the model in service, when there is one that loads
        try:
            grid = grid_of(registry.load_pipeline(settings.models_dir)[0])
        except registry.ModelError:
            grid = QUICK_GRID
    version = train_and_save(settings, grid=grid, baselines=not args.no_baselines)
    folder = settings.models_dir / version
    print((folder / "report.md").read_text(encoding="utf-8"))
    if not args.no_promote:
        with registry.exclusive(settings.models_dir):
            registry.promote(settings.models_dir, version, reason="make train")
        print(f"trained and promoted {version} ({folder})")
    else:
        print(f"trained {version} ({folder}); not promoted")
    return ExitCode.OK


def cmd_explain(args: argparse.Namespace, settings: Settings) -> ExitCode:
    from boundaryline.predict import load_scorer

    scorer = load_scorer(settings)
    text = sys.stdin.read() if args.text == "-" else args.text
    score = scorer.score([text])[0]
    explanation = scorer.explain(text, args.label)
    print(f"label: {score.label}  flagged: {score.flagged}  (model {scorer.version})")
    print("scores: " + ", ".join(f"{k} {v:.3f}" for k, v in score.scores.items()))
    print(
        f"why {explanation.label} (decision {explanation.decision:+.3f} = intercept {explanation.intercept:+.3f}"
        " + the terms below and the rest):"
    )
    for item in explanation.top(args.top):
        print(f"  {item.weight:+.3f}  {item.term}")
    return ExitCode.OK


def cmd_score(args: argparse.Namespace, settings: Settings) -> ExitCode:
    from boundaryline.predict import load_scorer
    from boundaryline.progress import TerminalReporter
    from boundaryline.scoring import ScoreOptions, score_inbox

    inputs = [Path(path) for path in args.inbox] or [settings.examples_dir / "inbox.mbox"]
    if args.scheduler and args.engine != "dask":
        raise ValueError("--scheduler names a Dask scheduler: add --engine dask")
    options = ScoreOptions(
        fmt=args.format,
        text_column=args.text_column,
        output_format=args.output_format,
        jobs=args.jobs if args.jobs is not None else (-1 if args.engine == "dask" else 1),
        owner=args.owner,
        explain=args.explain,
        delimiter=_delimiter(args.delimiter),
        sheet=args.sheet,
        engine=args.engine,
        scheduler=args.scheduler,
        snippets=args.snippets,
    )
    inbox = inputs[0] if len(inputs) == 1 else inputs
    scorer = load_scorer(settings)
    # The model's objects are never collected: out of the collector's sight they cost no time in each full
    # collection of the run, and forked workers share their pages instead of copying them (Python's advice).
    gc.freeze()
    summary = score_inbox(
        inbox,
        settings=settings,
        options=options,
        scorer=scorer,
        out=Path(args.out) if args.out else None,
        reporter=TerminalReporter(quiet=args.quiet),
    )
    if summary.skipped:
        print(
            f"{summary.skipped} record(s) skipped (listed above and in the summary); the results are written",
            file=sys.stderr,
        )
    return ExitCode.PROBLEMS if summary.skipped and args.strict else ExitCode.OK


def _delimiter(value: str | None) -> str | None:
    """``--delimiter``: one character, or a name for the ones a shell makes awkward (tab, semicolon, …)."""
    if value is None:
        return None
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " "}
    delimiter = named.get(value.lower(), value)
    if len(delimiter) != 1:
        raise ValueError(f"--delimiter must be one character (or tab, comma, semicolon, pipe), got {value!r}")
    return delimiter


def cmd_models(args: argparse.Namespace, settings: Settings) -> ExitCode:
    from boundaryline import registry
    from boundaryline.predict import load_scorer
    from boundaryline.retrain import finish_interrupted_promotion, restore_corpus, sync_feedback

    models_dir = settings.models_dir
    if args.action == "check":
        scorer = load_scorer(settings)  # verifies the sha256 and scikit-learn version
        print(f"ok: model {scorer.version} loads and is verified")
        for kind, names in registry.leftovers(models_dir, settings.corpus_path).items():
            print(f"left behind by stopped runs: {kind}: {', '.join(names)} (`boundaryline models clean` removes them)")
        return ExitCode.OK
    if args.action == "clean":
        with registry.exclusive(models_dir):
            note = finish_interrupted_promotion(settings)
            found = registry.leftovers(models_dir, settings.corpus_path)
            for name in [*found.get("staging folders", []), *found.get("temp files", [])]:
                path = Path(name)
                shutil.rmtree(path) if path.is_dir() else path.unlink()
                print(f"removed {path}")
            for name in found.get("versions never in service", []):
                if args.unpromoted:
                    shutil.rmtree(models_dir / name)
                    print(f"removed {models_dir / name} (never in service)")
                else:
                    print(f"kept {name} (never in service; --unpromoted removes it)")
        if note:
            print(note)
        return ExitCode.OK
    if args.action == "tables":  # versions saved before scoring tables get theirs (scoring then needs no sklearn)
        from boundaryline.train import training_data

        sets = training_data(settings, counterfactuals=False).sets
        texts = [text for frame in sets.values() for text in frame["text"].tolist()]
        with registry.exclusive(models_dir):
            for version in registry.versions(models_dir):
                if "scoring_table" not in registry.read_manifest(models_dir, version):
                    gap = registry.add_table(models_dir, version, texts)
                    print(f"{version}: scoring table added (largest gap {gap:.1e} on {len(texts):,} texts)")
        return ExitCode.OK
    if args.action == "rollback":
        with registry.exclusive(models_dir):
            version = registry.rollback(models_dir, args.version)
            restored = restore_corpus(settings, version)
            synced = sync_feedback(settings) if restored else None
        print(f"current model is now {version}")
        if synced:
            print(synced)
        print(
            f"{settings.corpus_path} is the corpus {version} was trained on"
            if restored
            else f"{version} keeps no copy of its corpus (trained before copies were kept): {settings.corpus_path}"
            " is left as it is"
        )
        return ExitCode.OK
    current = registry.current_version(models_dir)
    print(f"{'version':8} {'created':26} {'test F1':>8} {'chall. F1':>9}  notes")
    for version in registry.versions(models_dir):
        manifest = registry.read_manifest(models_dir, version)
        metrics = manifest.get("metrics", {})
        mark = "* current" if version == current else ""
        forced = " forced" if manifest.get("retrain", {}).get("forced") else ""
        print(
            f"{version:8} {manifest.get('created', '?'):26} {metrics.get('test', {}).get('macro_f1', float('nan')):8.3f}"
            f" {metrics.get('challenge', {}).get('macro_f1', float('nan')):9.3f}  {mark}{forced}"
        )
    return ExitCode.OK


def cmd_feedback(args: argparse.Namespace, settings: Settings) -> ExitCode:
    """The review step: corrections beside the model's opinion; accept or reject them before a retrain."""
    from boundaryline.feedback import FeedbackStore, review_queue
    from boundaryline.predict import load_scorer

    store = FeedbackStore(settings.feedback_path)
    if args.action == "list":
        queue = review_queue(store, load_scorer(settings))
        shown = [c for c in queue if args.all or c.item.review is None]
        if not shown:
            print(
                f"no correction awaits review in {settings.feedback_path}"
                + (" (--all lists the decided ones)" if not args.all else "")
            )
            return ExitCode.OK
        for c in shown:
            text = " ".join(c.item.text.split())
            print(
                f"{c.item.id}  [{c.item.review or 'pending'}]  corrected to {c.item.label}; the model says"
                f" {c.model_label} ({c.model_probability:.2f}), {c.item.label} {c.probability_of_correction:.2f}"
            )
            print(f"    {printable(text[:100])}{'…' if len(text) > 100 else ''}")
            print("    evidence: " + ", ".join(f"{t} ({w:+.2f})" for t, w in c.evidence[:5]))
            for mark in c.marks:
                print(f"    ! {mark}")
        return ExitCode.OK
    if not args.ids:
        raise ValueError(f"feedback {args.action} needs the id of at least one correction (boundaryline feedback list)")
    try:
        decided = store.decide(args.ids, "accepted" if args.action == "accept" else "rejected")
    except KeyError as error:
        raise ValueError(error.args[0]) from None
    for item in decided:
        print(f"{item.id}: {item.review} ({item.label})")
    return ExitCode.OK


def cmd_retrain(args: argparse.Namespace, settings: Settings) -> ExitCode:
    from boundaryline.retrain import retrain

    outcome = retrain(
        settings,
        new=Path(args.new) if args.new else None,
        from_feedback=args.from_feedback or not args.new,
        accept_conflicts=args.accept_conflicts,
        skip_invalid=args.skip_invalid,
        force=args.force,
        quick=args.quick,
    )
    print(outcome.report)
    return ExitCode.OK if outcome.promoted or outcome.nothing_to_do else ExitCode.PROBLEMS


def cmd_serve(args: argparse.Namespace, settings: Settings) -> ExitCode:
    import uvicorn

    from boundaryline.files import fresh_folder

    if args.workers > 1:
        # Prometheus multiprocess mode: each worker writes its counts to files here and /metrics sums them.
        # The variable must be set before a worker imports prometheus_client; the workers inherit it.
        # This service's own folder, emptied: the counts of its earlier run would add up.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(fresh_folder(settings.service_metrics_dir(args.port)))
    uvicorn.run("service.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers)
    return ExitCode.OK


def cmd_watch(args: argparse.Namespace, settings: Settings) -> ExitCode:
    """Score a live mailbox as mail arrives (``boundaryline.live.watch``). The password comes from
    ``BOUNDARYLINE_IMAP_PASSWORD`` or ``--password-file``, never from the command line."""
    from pydantic import SecretStr

    from boundaryline.live.imap import Account
    from boundaryline.live.watch import Watcher, WatchOptions

    account = Account.parse(args.url)
    if args.backfill < 0:
        raise ValueError("--backfill takes a number of messages, 0 or more")
    password = settings.imap_password
    if args.password_file:
        path = Path(args.password_file)
        if path.stat().st_mode & 0o077:
            print(f"boundaryline watch: warning: {path} can be read by others; chmod 600 it", file=sys.stderr)
        lines = path.read_text(encoding="utf-8").splitlines()
        password = SecretStr(lines[0] if lines else "")
    if password is None or not password.get_secret_value():
        raise ValueError(
            "no IMAP password: set BOUNDARYLINE_IMAP_PASSWORD or give --password-file FILE (with Gmail or Fastmail,"
            " an app password)"
        )
    options = WatchOptions(
        move_to=args.move_flagged,
        copy_to=args.copy_flagged,
        backfill=args.backfill,
        once=args.once,
        owner=tuple(args.owner or ()),
        sent=args.sent_folder,
        insecure=args.insecure,
        state=Path(args.state) if args.state else None,
    )
    print(f"watching {account} ({'one look' if args.once else 'Ctrl-C stops'})", flush=True)
    watcher = Watcher(account, password, settings, options, report=lambda line: print(line, flush=True))
    try:
        tally = watcher.run()
    except (KeyboardInterrupt, Stopped) as error:  # the usual way to end a watch
        error.add_note(f"its place is saved; {watcher.tally.line()}")
        raise
    print(tally.line(), flush=True)
    return ExitCode.OK


def cmd_filter(args: argparse.Namespace, settings: Settings | None) -> ExitCode:
    """One message on standard input, the same on standard output with ``X-Boundaryline-*`` headers
    (``boundaryline.live.filter``); a message that cannot be scored is written unchanged. The settings are
    read here (``main`` passes none): a bad ``BOUNDARYLINE_*`` value must not lose the message either."""
    from boundaryline.live.filter import Filtered, FilterExit, filter_message
    from boundaryline.live.model import load_model

    raw = sys.stdin.buffer.read()
    try:
        settings = settings or get_settings()
        result = filter_message(raw, load_model(settings), settings)
    except Exception as error:  # no model, a broken one: the message is delivered as it came
        said = type(error).__name__ + (
            f": {error}" if isinstance(error, (RuntimeError, OSError, SettingsProblem)) else ""
        )
        result = Filtered(raw, FilterExit.NOT_SCORED, reason=said)
    sys.stdout.buffer.write(result.output)
    sys.stdout.buffer.flush()
    if result.reason:
        print(f"boundaryline filter: not scored, passed on unchanged ({printable(result.reason)})", file=sys.stderr)
    return ExitCode.OK if args.exit_zero else ExitCode(int(result.exit))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="boundaryline", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress (never message text)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate-data", help="check the corpus and challenge set; print counts")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.add_argument("--write-datasheet", action="store_true", help="refresh the counts in data/README.md")
    p.set_defaults(func=cmd_validate_data)

    p = sub.add_parser("build-corpus", help="assemble data/corpus/*.csv from the authored files in data/raw/")
    p.add_argument("--added", help="date to record in the `added` column (default: keep existing / today)")
    p.set_defaults(func=cmd_build_corpus)

    p = sub.add_parser(
        "build-threads", help="build the frozen thread set (data/corpus/threads.jsonl) from the test split"
    )
    p.set_defaults(func=cmd_build_threads)

    p = sub.add_parser("generate-corpus", help="write the seeded generated messages to data/raw/")
    p.add_argument("--per-family", type=int, default=16, help="messages per generated family")
    p.set_defaults(func=cmd_generate_corpus)

    p = sub.add_parser("train", help="fit, evaluate against baselines, save a versioned model")
    p.add_argument("--quick", action="store_true", help="one candidate instead of the full grid search")
    p.add_argument("--no-baselines", action="store_true", help="skip the baselines")
    p.add_argument("--no-promote", action="store_true", help="save the model without putting it in service")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("explain", help="score one text and list the terms that drove it")
    p.add_argument("text", help="the message text, or - to read it from standard input")
    p.add_argument("--label", help="explain this class instead of the predicted one")
    p.add_argument("--top", type=int, default=10, help="how many terms to list (default: %(default)s)")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("score", help="score an inbox export (" + ", ".join(FORMATS) + ")")
    p.add_argument(
        "inbox",
        nargs="*",
        help="files, folders or quoted globs ('exports/*.mbox'); a folder of several exports is read file by file"
        " (default: the shipped sample inbox)",
    )
    p.add_argument("--out", help="results file (default: reports/<inbox name>.results.csv)")
    p.add_argument(
        "--format", choices=FORMATS, metavar="FORMAT", help="input format, when detection guesses wrong: %(choices)s"
    )
    p.add_argument("--text-column", help="the column holding the message text (csv, tsv, xlsx, json)")
    p.add_argument(
        "--delimiter", help="CSV separator, e.g. ';' or tab (default: sniffed from the header among , ; tab |)"
    )
    p.add_argument("--sheet", help="the .xlsx sheet to read (default: the first)")
    p.add_argument(
        "--output-format",
        choices=["csv", "jsonl"],
        help="results format (default: from the --out extension, .csv or .jsonl; csv without --out)",
    )
    p.add_argument("--strict", action="store_true", help="exit 1 when any record was skipped (default: 0 once written)")
    p.add_argument(
        "--jobs",
        type=int,
        help="processes to score with, each reading its own partitions (-1: every core; default: 1); with"
        " --engine dask and no --scheduler, the LocalCluster's workers (default: every core)",
    )
    p.add_argument(
        "--engine",
        choices=["local", "dask"],
        default="local",
        help="local: this machine; dask: a Dask cluster (pip install 'boundaryline[dask]') (default: %(default)s)",
    )
    p.add_argument(
        "--scheduler", help="the Dask scheduler's address, e.g. tcp://10.0.0.5:8786 (default: a LocalCluster)"
    )
    p.add_argument(
        "--owner",
        action="append",
        metavar="NAME_OR_ADDRESS",
        help="the inbox owner's address or name as the export writes it; repeat for aliases (default:"
        " BOUNDARYLINE_OWNER, else decided from the export and said in the summary)",
    )
    p.add_argument(
        "--explain", choices=["flagged", "all", "none"], default="flagged", help="which rows get their top terms"
    )
    p.add_argument(
        "--snippets",
        action="store_true",
        help="write each scored text's first 200 characters into the results (column snippet), for the review"
        " page; off by default: the results then hold no message text",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("models", help="list model versions, check the current one, roll back, clean up")
    p.add_argument(
        "action",
        choices=["list", "check", "rollback", "clean", "tables"],
        nargs="?",
        default="list",
        help="list (default); check: the model in service loads and is verified, and what stopped runs left"
        " behind; rollback [VERSION]: back to VERSION or the one served before, with its corpus; clean: remove"
        " what stopped runs left behind; tables: give versions saved before scoring tables theirs, checked"
        " against the pipeline on the frozen sets (then scoring them needs no scikit-learn)",
    )
    p.add_argument("version", nargs="?", help="with rollback: the version to go back to")
    p.add_argument("--unpromoted", action="store_true", help="with clean: also remove versions never in service")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("feedback", help="review corrections before a retrain merges them: list, accept, reject")
    p.add_argument(
        "action",
        choices=["list", "accept", "reject"],
        help="list: the corrections waiting for review, beside the model's opinion; accept / reject: decide",
    )
    p.add_argument("ids", nargs="*", metavar="ID", help="with accept or reject: the corrections' ids (from list)")
    p.add_argument("--all", action="store_true", help="with list: the accepted and rejected ones too")
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("retrain", help="merge new labelled examples, train a candidate, promote if not worse")
    p.add_argument("new", nargs="?", help="CSV or JSONL of new examples (text, label, [channel, id, note])")
    p.add_argument(
        "--from-feedback", action="store_true", help="use the service's feedback store (accepted corrections)"
    )
    p.add_argument("--accept-conflicts", action="store_true", help="let the new label win on conflicts")
    p.add_argument(
        "--skip-invalid",
        action="store_true",
        help="merge a file's valid rows even when some are not (default: a file is merged whole or not at all)",
    )
    p.add_argument("--force", action="store_true", help="promote even if worse (recorded in the manifest)")
    p.add_argument("--quick", action="store_true", help="reuse the current model's parameters, no search")
    p.set_defaults(func=cmd_retrain)

    p = sub.add_parser("serve", help="run the HTTP service with uvicorn")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default: %(default)s)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "watch", help="score a live mailbox over IMAP as mail arrives: keywords, flagged mail moved, corrections read"
    )
    p.add_argument(
        "url",
        metavar="IMAP_URL",
        help="imaps://user@host[:port]/INBOX (TLS), or imap://… (STARTTLS); the password comes from"
        " BOUNDARYLINE_IMAP_PASSWORD or --password-file, never from here",
    )
    p.add_argument("--password-file", metavar="FILE", help="the password, on the first line of FILE (keep it 0600)")
    flagged = p.add_mutually_exclusive_group()
    flagged.add_argument("--move-flagged", metavar="FOLDER", help="move flagged messages to FOLDER (made if missing)")
    flagged.add_argument("--copy-flagged", metavar="FOLDER", help="copy flagged messages to FOLDER, leaving them too")
    p.add_argument(
        "--backfill",
        type=int,
        default=0,
        metavar="N",
        help="on the first start, also score the last N messages already there (default: only new mail)",
    )
    p.add_argument(
        "--once", action="store_true", help="one look: score what is new, read the corrections, exit (cron, tests)"
    )
    p.add_argument(
        "--owner", action="append", metavar="ADDRESS", help="another address of yours (repeat); the account's counts"
    )
    p.add_argument(
        "--sent-folder",
        metavar="FOLDER",
        help="your sent mail, for the senders' history (default: the folder the server marks \\Sent, or Sent,"
        " Sent Items, Sent Messages)",
    )
    p.add_argument("--state", metavar="FILE", help="where the watch keeps its place (default: data/watch/<hash>.json)")
    p.add_argument(
        "--insecure", action="store_true", help="local tests only: no certificate check; plain IMAP to this machine"
    )
    p.set_defaults(func=cmd_watch)

    p = sub.add_parser(
        "filter",
        help="for a delivery agent: one message on stdin, the same on stdout with X-Boundaryline-* headers; exit 0"
        " professional, 1 flagged, 2 not scored (passed on unchanged)",
    )
    p.add_argument(
        "--exit-zero",
        action="store_true",
        help="exit 0 whenever the message is written (Sieve's filter and maildrop's xfilter keep or refuse the"
        " message when a filter exits otherwise)",
    )
    p.set_defaults(func=cmd_filter)
    return parser


class Stopped(BaseException):
    """SIGTERM or SIGHUP arrived: unwind like Ctrl-C, so every temp file is removed on the way out."""


def _stop(signum: int, frame: object) -> None:
    raise Stopped(signal.Signals(signum).name)


def main(argv: Sequence[str] | None = None) -> ExitCode:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop)
    try:
        settings = get_settings() if args.func is not cmd_filter else None  # the filter reads its own
        return ExitCode(args.func(args, settings))
    except (FileNotFoundError, ValueError) as error:
        print(f"boundaryline {args.command}: {printable(str(error))}", file=sys.stderr)
        return ExitCode.UNUSABLE
    except RuntimeError as error:  # ModelError and friends: a clear sentence, no traceback
        print(f"boundaryline {args.command}: {printable(str(error))}", file=sys.stderr)
        return ExitCode.UNUSABLE
    except OSError as error:  # a full disk, `ulimit -f`, a folder it cannot write: the files are whole or absent
        print(f"boundaryline {args.command}: {printable(str(error))}", file=sys.stderr)
        return ExitCode.UNUSABLE
    except (KeyboardInterrupt, Stopped) as error:
        why = f"stopped by {error}" if isinstance(error, Stopped) else "interrupted"
        notes = "; ".join(getattr(error, "__notes__", [])) or "nothing was changed"
        print(f"boundaryline {args.command}: {why}; {notes}", file=sys.stderr)
        return ExitCode.STOPPED


if __name__ == "__main__":
    sys.exit(main())
