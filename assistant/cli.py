"""The ``assistant`` command line: ingest, search, ask, batch, eval, ui, info, docs, show."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import typer

from .config import Settings, load_settings
from .errors import AssistantError
from .records import Citation

app = typer.Typer(
    help="Standards-drafting knowledge assistant: clause-level answers from Chinese standards, "
    "laws and policy texts, with citations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

F = TypeVar("F", bound=Callable[..., Any])


def _errors(fn: F) -> F:
    """Turn domain errors into one line on stderr and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*a: Any, **kw: Any) -> Any:
        try:
            return fn(*a, **kw)
        except AssistantError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _settings(ctx: typer.Context, **overrides: Any) -> Settings:
    base: Settings = ctx.obj
    return base.with_overrides(**overrides)


def _echo_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False))


def _cell(text: str) -> str:
    """A value for one tab-separated line: tabs, newlines and other control characters
    (possible in file names) are shown escaped so that one document stays one line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1]
                   for ch in text)


def page_ranges(pages: list[int]) -> str:
    """[1, 2, 3, 5] → "1–3, 5"."""
    runs: list[list[int]] = []
    for p in sorted(set(pages)):
        if runs and p == runs[-1][1] + 1:
            runs[-1][1] = p
        else:
            runs.append([p, p])
    return ", ".join(f"{a}–{b}" if b > a else str(a) for a, b in runs)


def _nonblank(text: str, what: str) -> str:
    """Reject an empty or blank argument as a usage error (exit status 2)."""
    if not text.strip():
        raise typer.BadParameter(f"the {what} is empty; give some text, e.g. "
                                 "'assistant search \"GB/T 1.1 8.6\"'", param_hint=what.upper())
    return text


@app.callback()
@_errors
def _main(
    ctx: typer.Context,
    index: Path = typer.Option(None, "--index", help="index directory [env ASSISTANT_INDEX; default ./index]"),
    embed_model: str = typer.Option(None, "--embed-model", help="embedder [env ASSISTANT_EMBED_MODEL]"),
    query_adapter: str = typer.Option(None, "--query-adapter",
                                      help="learned query adapter: default, none or an .npz path "
                                      "[env ASSISTANT_QUERY_ADAPTER; none]"),
    scorer: str = typer.Option(None, "--scorer",
                               help="learned scorer over the fused candidates: default, none "
                               "or a .json path [env ASSISTANT_SCORER; default]"),
    reranker: str = typer.Option(None, "--reranker",
                                 help="cross-encoder folder or cached name [env ASSISTANT_RERANKER]"),
    rerank_depth: int = typer.Option(None, "--rerank-depth",
                                     help="hits the reranker re-scores [env ASSISTANT_RERANK_DEPTH; 50]"),
) -> None:
    ctx.obj = load_settings(index=index, embed_model=embed_model, reranker=reranker,
                            rerank_depth=rerank_depth, query_adapter=query_adapter,
                            scorer=scorer)


# ---------------------------------------------------------------- filters
def _filters(kind: list[str] | None, category: list[str] | None, current_only: bool,
             doc: list[str] | None, status: list[str] | None = None) -> Any:
    from .records import Filters

    return Filters(kinds=kind or None, categories=category or None, current_only=current_only,
                   docs=doc or None, statuses=status or None)


KIND = typer.Option(None, "--kind", help="standard / law / policy / other (repeatable)")
CATEGORY = typer.Option(None, "--category", help="national/industry/local/group/enterprise, or a law level (repeatable)")
CURRENT = typer.Option(False, "--current-only", help="leave out withdrawn and superseded versions")
DOC = typer.Option(None, "--doc", help="only this document (path as listed by 'assistant docs'; repeatable)")
STATUS = typer.Option(None, "--status", help="only this status, e.g. 现行 or 有效 (repeatable)")
JSON = typer.Option(False, "--json", help="machine-readable JSON output")


# ---------------------------------------------------------------- ingest
@app.command()
@_errors
def ingest(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="files or folders to index"),
    catalog: Path = typer.Option(None, "--catalog", help="CSV of metadata (path or number → title, status, dates, replaced_by); "
                                 "a catalog.csv inside a folder is used automatically"),
    prune: bool = typer.Option(False, "--prune", help="remove indexed documents whose files are gone"),
    no_embed: bool = typer.Option(False, "--no-embed", help="parse and keyword-index only; embed later"),
    recipe: str = typer.Option(None, "--recipe",
                               help="vector recipe: two-view, span, passage or auto (the index's "
                               "own); another than the index's re-embeds it [env ASSISTANT_EMBED_RECIPE]"),
    dtype: str = typer.Option(None, "--dtype",
                              help="embedding arithmetic: auto, float32, bfloat16 or int8 "
                              "[env ASSISTANT_EMBED_DTYPE]"),
    as_json: bool = JSON,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bars"),
) -> None:
    """Index documents (PDF, DOCX, TXT, MD, HTML): unchanged files are skipped."""
    from .ingest import ingest as run

    s = _settings(ctx, embed_recipe=recipe, embed_dtype=dtype)

    def show(fr: Any) -> None:
        if fr.status == "failed" and not as_json:
            typer.echo(f"failed: {fr.reason}", err=True)
        if fr.ocr_pages and not as_json:  # scanned pages: the engineer should know
            typer.echo(f"OCR: {fr.path} pages {page_ranges(fr.ocr_pages)}", err=True)

    report = run(paths, s, catalog=catalog, prune=prune, progress=not (quiet or as_json),
                 embed=not no_embed, on_file=show)
    if as_json:
        _echo_json(report.to_json())
    else:
        typer.echo(report.summary())
    if report.failed:
        raise typer.Exit(1)


# ---------------------------------------------------------------- search
@app.command()
@_errors
def search(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="question, keywords, or a reference such as 'GB/T 1.1 8.6'",
                                callback=lambda v: _nonblank(v, "query")),
    k: int = typer.Option(10, "-k", "--top-k", help="number of hits"),
    mode: str = typer.Option("hybrid", "--mode", help="hybrid / bm25 / dense"),
    kind: list[str] = KIND, category: list[str] = CATEGORY, current_only: bool = CURRENT,
    doc: list[str] = DOC, status: list[str] = STATUS, as_json: bool = JSON,
) -> None:
    """Find the clauses that best match a query."""
    from .service import Assistant

    a = Assistant(_settings(ctx))
    hits = a.search(query, k, _filters(kind, category, current_only, doc, status), mode)
    if as_json:
        for h in hits:
            _echo_json(h.to_json())
        return
    if not hits:
        typer.echo("no matching clauses")
    for h in hits:
        c = h.chunk
        name = " ".join(x for x in (c.std_no, c.title) if x) or c.doc
        flags = f" [{c.status}]" if c.status and c.status != "未知" else ""
        if h.superseded:
            flags += f" [旧版本，现行：{h.replaced_by}]" if h.replaced_by else " [旧版本]"
        typer.echo(f"{h.rank:>2}. {h.score:.3f}  {name}  {c.clause}{flags}")
        if c.heading:
            typer.echo(f"    {c.heading}" + (f"  (p. {c.page})" if c.page else ""))
        first = " ".join(c.text.split())[:160]
        typer.echo(f"    {first}")


# ---------------------------------------------------------------- ask
@app.command()
@_errors
def ask(
    ctx: typer.Context,
    question: str = typer.Argument(..., help="the question, in Chinese or English",
                                   callback=lambda v: _nonblank(v, "question")),
    mode: str = typer.Option(None, "--mode", help="extractive (default, offline) / openai / llamacpp"),
    k: int = typer.Option(None, "-k", "--top-k", help="clauses retrieved as evidence"),
    kind: list[str] = KIND, category: list[str] = CATEGORY, current_only: bool = CURRENT,
    doc: list[str] = DOC, as_json: bool = JSON,
) -> None:
    """Answer a question from the indexed documents, citing clauses."""
    from .service import Assistant

    s = _settings(ctx, answer_mode=mode, top_k=k)
    a = Assistant(s)
    ans = a.ask(question, filters=_filters(kind, category, current_only, doc))
    if as_json:
        _echo_json(ans.to_json())
        return
    typer.echo(ans.answer)
    for f in ans.flags:
        typer.echo(f"! {f}", err=True)
    if ans.citations:
        typer.echo("")
        typer.echo(format_sources(ans.citations))


def format_sources(citations: Sequence[Citation]) -> str:
    """Numbered source lines for the terminal: label, heading path, page, status, quote."""
    from .cite import doc_name

    lines: list[str] = []
    for c in citations:
        head = f"[{c.n}] {doc_name(c.std_no, c.title, c.doc)} {c.clause}".rstrip()
        extra = []
        if c.heading:
            extra.append(c.heading)
        if c.page:
            extra.append(f"第{c.page}页")
        if c.status and c.status != "未知":
            extra.append(c.status)
        if extra:
            head += " · " + " · ".join(extra)
        lines.append(head)
        if c.warning:
            lines.append(f"    ⚠ {c.warning}")
        if c.quote:
            lines.append(f"    “{c.quote}”")
    return "\n".join(lines)


# ---------------------------------------------------------------- batch
@app.command()
@_errors
def batch(
    ctx: typer.Context,
    input: Path = typer.Argument(..., help="questions: JSONL {id, question}, CSV (id,question) or text, one a line; "
                               "without an id a question is numbered by its line, with an empty JSONL id it is skipped"),
    output: Path = typer.Option(None, "-o", "--output", help="answers file (default: INPUT stem + .answers.jsonl); "
                                "ids already in it are skipped, so a run can be resumed"),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl or csv"),
    workers: int = typer.Option(1, "--workers", help="questions answered concurrently (for LLM modes)"),
    mode: str = typer.Option(None, "--mode", help="extractive / openai / llamacpp"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Answer a file of questions; resumable."""
    from .batch import run_batch
    from .service import Assistant

    s = _settings(ctx, answer_mode=mode)
    a = Assistant(s)
    a.warm()  # many questions: the query engine ready before the first
    out = output or input.with_name(input.stem + f".answers.{fmt}")
    report = run_batch(input, out, lambda: a.answerer(), fmt=fmt, workers=workers, progress=not quiet)
    typer.echo(f"{report}  → {out}")


# ---------------------------------------------------------------- eval
@app.command("eval")
@_errors
def eval_(
    ctx: typer.Context,
    datasets: list[Path] = typer.Argument(None, help="JSONL datasets (default: eval/datasets/manifest.toml)"),
    corpus: Path = typer.Option(None, "--corpus", help="ingest this folder into a cached index and evaluate on it"),
    out: Path = typer.Option(None, "--out", help="where qrels, runs, metrics.json and report.md go"),
    baselines: bool = typer.Option(False, "--baselines", help="also run BM25-only, dense-only and LlamaIndex's default recipe"),
    baseline: list[str] = typer.Option(None, "--baseline", help="run only these baselines: bm25, dense, llamaindex-default (repeatable)"),
    index: Path = typer.Option(None, "--index", help="evaluate on this existing index instead of ingesting the datasets' corpora"),
    compare: Path = typer.Option(None, "--compare", help="a previous run folder: list regressions"),
    limit: int = typer.Option(None, "--limit", help="only the first N questions of each dataset"),
    answers: bool = typer.Option(True, "--answers/--no-answers", help="also evaluate answers and citations"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Evaluate retrieval and answers (TREC qrels/runs, metrics.json, report.md)."""
    from .evaluate import run_eval

    s = _settings(ctx)
    chosen: bool | list[str] = list(baseline) if baseline else baselines
    result = run_eval(list(datasets or []), s, corpus=corpus, out=out, baselines=chosen,
                      compare=compare, limit=limit, answers=answers, progress=not quiet,
                      index=index)
    typer.echo(f"report: {result.get('out', out)}/report.md")
    if result.get("violations"):
        for v in result["violations"]:
            typer.echo(f"below threshold: {v}", err=True)
        raise typer.Exit(1)


# ---------------------------------------------------------------- ui
@app.command()
@_errors
def ui(
    ctx: typer.Context,
    host: str = typer.Option(None, "--host", help="address to bind [default 127.0.0.1]"),
    port: int = typer.Option(None, "--port", help="port [default 7860]"),
) -> None:
    """Open the browser chat (Gradio) on the index."""
    from ui.app import launch

    launch(_settings(ctx, host=host, port=port))


# ---------------------------------------------------------------- info / docs / show
@app.command()
@_errors
def info(ctx: typer.Context, as_json: bool = JSON) -> None:
    """Show the index location, manifest, counts and models."""
    from .index import Index

    s = _settings(ctx)
    idx = Index.open(s)
    data = {"index": str(idx.path), "manifest": idx.manifest, "stats": idx.stats(),
            "settings": {"embed_model": s.embed_model, "answer_mode": s.answer_mode,
                         "reranker": s.reranker or None, "llm_base_url": s.llm_base_url or None,
                         "llm_model": s.llm_model or None, "fusion": s.fusion}}
    health = idx.vector_health()  # the vector store against the chunk table
    data["vectors"] = health.to_json()
    from .query_adapter import describe

    emb = idx.manifest.get("embedder", {})
    data["query_adapter"] = describe(s.query_adapter, emb.get("id", ""), int(emb.get("dim") or 0))
    from .learned_scorer import describe as describe_scorer

    data["scorer"] = describe_scorer(s.scorer, emb.get("id", ""))
    from .embed.cpu import cpu_info

    data["cpu"] = cpu_info().to_json(s.embed_dtype)  # the embedder's matmul path on this CPU
    from .embed.recipe import recipe_name

    built = idx.manifest.get("vectors")  # the vector recipe, by name where it is a known one
    data["recipe"] = recipe_name(built, default=str(built))
    if as_json:
        _echo_json(data)
        return
    m, st = idx.manifest, data["stats"]
    emb = m.get("embedder", {})
    typer.echo(f"index:      {idx.path.resolve()}")
    typer.echo(f"embedder:   {emb.get('id')} (dim {emb.get('dim')})")
    typer.echo(f"chunker:    v{m.get('chunker_version')}   tokenizer: {m.get('tokenizer')}")
    typer.echo(f"documents:  {st['documents']}")
    typer.echo(f"chunks:     {st['chunks']} ({st['embedded']} embedded)")
    typer.echo(f"vectors:    {health.summary()}")
    typer.echo(f"recipe:     {data['recipe']}")
    typer.echo(f"size:       {st['size_bytes'] / 1e6:.1f} MB")
    typer.echo(f"created:    {m.get('created')}   updated: {m.get('updated')}")
    typer.echo(f"answers:    {s.answer_mode}" + (f" via {s.llm_base_url}" if s.llm_base_url else ""))
    typer.echo(f"reranker:   {s.reranker or 'none'}")
    typer.echo(f"query adapter: {data['query_adapter']}")
    typer.echo(f"scorer:     {data['scorer']}")
    typer.echo(f"cpu:        {cpu_info().summary(s.embed_dtype)}")


@app.command()
@_errors
def docs(ctx: typer.Context, as_json: bool = JSON) -> None:
    """List the indexed documents with their metadata."""
    from .index import Index

    idx = Index.open(_settings(ctx))
    rows = sorted(idx.documents().values(), key=lambda d: d.meta.doc)
    if as_json:
        for d in rows:
            _echo_json({**d.meta.to_dict(), "chunks": d.n_chunks})
        return
    for d in rows:
        m = d.meta
        name = " ".join(x for x in (m.std_no, m.title) if x)
        dates = "/".join(x for x in (m.issued, m.effective) if x)
        typer.echo("\t".join(_cell(x) for x in (m.doc, name, m.kind, m.status, dates))
                   + f"\t{d.n_chunks} chunks")


@app.command()
@_errors
def show(
    ctx: typer.Context,
    doc: str = typer.Argument(..., help="document path as listed by 'assistant docs'"),
    clause: str = typer.Argument(None, help="clause label, e.g. 8.6, 第十条, 附录A"),
    as_json: bool = JSON,
) -> None:
    """Print a document's outline, or one clause in full."""
    from .service import Assistant

    a = Assistant(_settings(ctx))
    if doc not in a.index.documents():
        raise AssistantError(f"{doc}: not in the index; see 'assistant docs'")
    chunks = a.clause(doc, clause)
    if clause and not chunks:
        raise AssistantError(f"{doc} has no clause '{clause}'; run 'assistant show {doc}' for its outline")
    if as_json:
        for c in chunks:
            _echo_json(c.to_dict())
        return
    if clause:
        c0 = chunks[0]
        typer.echo(f"{c0.std_no or c0.title} {c0.clause}   {c0.heading}" + (f"   p. {c0.page}" if c0.page else ""))
        typer.echo("\n".join(c.text for c in chunks))
        return
    for c in chunks:
        if c.part <= 1:
            first = " ".join(c.text.split())[:60]
            typer.echo(f"{c.clause:<14} {first}")


# ---------------------------------------------------------------- tune
@app.command()
@_errors
def tune(
    ctx: typer.Context,
    pairs: list[Path] = typer.Argument(..., help="pairs in the eval dataset format (question + gold "
                                       "[{doc, clause}]), e.g. the UI's feedback.jsonl; repeatable"),
    out: Path = typer.Option(..., "--out", help="the adapter file (.npz) to write"),
    method: str = typer.Option("linear", "--method", help="linear, lowrank, mlp or memory"),
    epochs: int = typer.Option(None, "--epochs", help="training passes over the pairs"),
    heldout: int = typer.Option(20, "--heldout", help="percent of the pairs held out for validation"),
    seed: int = typer.Option(0, "--seed", help="random seed"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Learn a query adapter from question → clause pairs against the index; writes it only
    if the hybrid's recall on the held-out pairs is not worse than now. Use it with
    --query-adapter FILE or ASSISTANT_QUERY_ADAPTER=FILE."""
    from .adapter_training import FitConfig, check_method
    from .tune import tune as run

    try:
        check_method(method)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--method") from None
    cfg = FitConfig(method=method, seed=seed, **({"epochs": epochs} if epochs else {}))
    r = run(pairs, _settings(ctx), out, cfg, heldout_percent=heldout, progress=not quiet)
    show = " ".join(f"{k} {r.before[k]:.3f} → {r.after[k]:.3f}" for k in r.before)
    typer.echo(f"held-out pairs: {r.n_heldout}, trained on {r.n_train}, {r.seconds:.0f} s")
    typer.echo(f"hybrid on held-out pairs: {show}")
    if r.written is None:
        typer.echo("not written: the new adapter is worse on the held-out pairs than the "
                   "current one", err=True)
        raise typer.Exit(1)
    typer.echo(f"written: {r.written}  (use: --query-adapter {r.written})")


# ---------------------------------------------------------------- check
@app.command()
@_errors
def check(
    ctx: typer.Context,
    draft: Path = typer.Argument(..., help="the draft standard: DOCX, PDF, Markdown or TXT"),
    as_json: bool = JSON,
    out: Path = typer.Option(None, "--out", help="also write the report as Markdown to this file"),
    catalog: Path = typer.Option(None, "--catalog", help="standards catalogue CSV (number,title,status,replaced_by …) "
                                 "for the status of cited standards"),
    no_related: bool = typer.Option(False, "--no-related", help="skip the related-provisions section"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Review a draft standard against GB/T 1.1—2020 and the library: normative references,
    structure, wording of provisions, each finding with the clause of the rule it applies.
    Findings are not failures: the exit status is 0 whenever the draft could be read."""
    from .check.report import to_text
    from .check.run import check_file, write_report

    report = check_file(draft, _settings(ctx), catalog=catalog, related=not no_related,
                        show_progress=not (quiet or as_json))
    if out:
        write_report(report, out)
    if as_json:
        _echo_json(report.to_json())
    else:
        typer.echo(to_text(report))
        if out:
            typer.echo(f"report: {out}")


def main() -> None:
    try:
        app()
    except AssistantError as e:  # raised before a command's own handler (e.g. bad env)
        typer.echo(f"error: {e}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
