"""Law parsing measured on the real corpus (../shared/corpus/laws) and on synthetic texts.

The reference articles are found by an independent line scan of the Markdown source (an
article is a line starting with 第X条 and a space; it runs to the next article or heading),
so the parser is checked against the files themselves, and against the STARD gold articles.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import defaultdict
from pathlib import Path

import pytest

from assistant.chunk import chunk_document
from assistant.parse import parse
from assistant.parse.catalog import Catalog
from assistant.parse.law import looks_like_law, parse_law
from assistant.records import LoadedFile

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
LAWS = SHARED / "corpus" / "laws"
SUBSET = SHARED / "corpus" / "quality-subset.txt"
GOLD = SHARED / "eval" / "stard-train.jsonl"
SAMPLE_SEED = 20240612
SAMPLE_SIZE = 200

_skip_without_laws = pytest.mark.skipif(not LAWS.is_dir(), reason="../shared/corpus/laws is absent")


def needs_laws(f):  # type: ignore[no-untyped-def]
    """Reads ../shared: marked ``shared`` and skipped where the data is absent."""
    return pytest.mark.shared(_skip_without_laws(f))

_CN = "[一二三四五六七八九十百千零〇]+"
_REF_ARTICLE = re.compile(rf"^(第({_CN})条(?:之{_CN})?) ")


def _load(path: Path, root: Path) -> LoadedFile:
    """The pipeline's loader when it is there; the same record built directly otherwise."""
    try:
        from assistant.load import load_file
    except ImportError:
        load_file = None
    if load_file is not None:
        return load_file(path, root)
    return LoadedFile(path=path.relative_to(root).as_posix(), format="md",
                      pages=[path.read_text(encoding="utf-8")])


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s.replace("\u200b", ""))


def _cn(s: str) -> int:
    from assistant.identifiers import cn_to_int

    return cn_to_int(s) or 0


def reference_articles(text: str) -> list[tuple[str, str, list[str]]]:
    """(label, text, chapter headings) of every article, by a plain scan of the source."""
    body = text.split("<!-- INFO END -->", 1)[-1]
    out: list[tuple[str, list[str], list[str]]] = []
    heads: dict[int, str] = {}
    for line in body.split("\n"):
        if re.fullmatch(r"附\s*则", line.strip()):
            line = "## " + line  # a chapter heading that lost its "##" in a few sources
        if re.match(r"^附(\s*[件表录]|[：:])", line) and out:
            line = "# " + line  # an annex after the articles is no part of the last one
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            heads = {k: v for k, v in heads.items() if k < level}
            name = " ".join(line.lstrip("#").split())
            if name.replace(" ", "") not in ("序言", "前言"):  # never an ancestor of articles
                heads[level] = name
            out.append(("", [], []))  # a heading ends the article before it
            continue
        # a few sources run several articles into one line: "…本规则。 第二条 凡…"
        segments = [line]
        m0 = _REF_ARTICLE.match(line)
        if m0:
            n, start, segments = _cn(m0.group(2)), 0, []
            for m in re.finditer(rf"(?<=。) 第({_CN})条 ", line):
                if _cn(m.group(1)) == n + 1:
                    segments.append(line[start:m.start()])
                    start, n = m.start() + 1, n + 1
            segments.append(line[start:])
        for seg in segments:
            m = _REF_ARTICLE.match(seg)
            if m:
                out.append((m.group(1), [seg], [heads[k] for k in sorted(heads)]))
            elif out and out[-1][0] and seg.strip():
                out[-1][1].append(seg)
    return [(lab, "".join(t), h) for lab, t, h in out if lab]


def _tested_files() -> list[str]:
    subset = ([x.strip() for x in SUBSET.read_text(encoding="utf-8").splitlines() if x.strip()]
              if SUBSET.is_file() else [])
    others = sorted(p.relative_to(LAWS).as_posix() for p in LAWS.rglob("*.md"))
    others = [p for p in others if p not in set(subset)]
    return subset + random.Random(SAMPLE_SEED).sample(others, min(SAMPLE_SIZE, len(others)))


def _catalog() -> Catalog | None:
    """The catalogue ingest reads next to the files (its level marks decisions and notices
    without articles as laws)."""
    path = LAWS / "catalog.csv"
    return Catalog.load(path) if path.is_file() else None


def _gold() -> dict[str, set[str]]:
    gold: dict[str, set[str]] = defaultdict(set)
    if GOLD.is_file():
        for line in GOLD.read_text(encoding="utf-8").splitlines():
            for g in json.loads(line)["gold"]:
                gold[g["doc"]].add(g["clause"])
    return gold


@needs_laws
def test_article_accuracy_on_subset_and_sample() -> None:
    """≥ 99.5 % of articles: exact label, whole text, chapters in the heading path."""
    files = _tested_files()
    gold = _gold()
    files += sorted(set(gold) - set(files))  # every gold law is checked too
    total = right = 0
    wrong: list[str] = []
    missing_gold: list[str] = []
    catalog = _catalog()
    t0 = time.perf_counter()
    for rel in files:
        path = LAWS / rel
        if not path.is_file():
            continue
        doc = parse(_load(path, LAWS), catalog)
        assert doc.meta.kind == "law", rel
        chunks = chunk_document(doc)
        # rejoin split articles: one entry per clause occurrence, in document order
        groups: list[tuple[str, str, str]] = []
        for c in chunks:
            if c.part > 1 and groups and groups[-1][0] == c.clause:
                lab, txt, head = groups[-1]
                groups[-1] = (lab, txt + c.text, head)
            else:
                groups.append((c.clause, c.text, c.heading))
        ref = reference_articles(path.read_text(encoding="utf-8"))
        pos = 0
        for label, text, heads in ref:
            total += 1
            j = next((k for k in range(pos, len(groups)) if groups[k][0] == label), None)
            if j is None:
                wrong.append(f"{rel} {label}: no chunk")
                continue
            pos = j + 1
            _, got, heading = groups[j]
            chapters_ok = all(" ".join(h.split()) in heading for h in heads)
            if _squash(got) == _squash(text) and chapters_ok:
                right += 1
            else:
                wrong.append(f"{rel} {label}: text={_squash(got) == _squash(text)} "
                             f"chapters={chapters_ok}")
        labels = {c.clause for c in chunks}
        missing_gold += [f"{rel} {c}" for c in sorted(gold.get(rel, ())) if c not in labels]
    elapsed = time.perf_counter() - t0
    rate = right / total
    print(f"\narticles: {right}/{total} = {rate:.4%} right over {len(files)} files "
          f"in {elapsed:.1f}s; first misses: {wrong[:5]}")
    assert total > 5000
    assert rate >= 0.995, wrong[:40]
    assert not missing_gold, missing_gold[:20]


@needs_laws
def test_stard_gold_articles_exist_as_chunks() -> None:
    """Every gold (doc, clause) of the STARD questions is a chunk label of its document."""
    gold = _gold()
    if not gold:
        pytest.skip("../shared/eval/stard-train.jsonl is absent")
    found = total = 0
    missing = []
    for rel, clauses in sorted(gold.items()):
        path = LAWS / rel
        if not path.is_file():
            continue
        labels = {c.clause for c in chunk_document(parse(_load(path, LAWS)))}
        for c in sorted(clauses):
            total += 1
            if c in labels:
                found += 1
            else:
                missing.append(f"{rel} {c}")
    print(f"\ngold articles found: {found}/{total}")
    assert not missing, missing[:20]


@needs_laws
def test_full_corpus_parses_quickly() -> None:
    """All 1,630 files parse in well under a minute into ~70,000 articles.

    The files are read as raw Markdown here (loading them through the loader takes longer
    than parsing them; the loader's plain-text output is measured in the accuracy test)."""
    catalog = _catalog()
    elapsed = 0.0
    articles = files = 0
    for path in sorted(LAWS.rglob("*.md")):
        loaded = LoadedFile(path=path.relative_to(LAWS).as_posix(), format="md",
                            pages=[path.read_text(encoding="utf-8")])
        t0 = time.perf_counter()
        doc = parse(loaded, catalog)
        elapsed += time.perf_counter() - t0
        files += 1
        articles += sum(1 for c in doc.clauses if re.fullmatch(rf"第{_CN}条(之{_CN})?", c.label))
    print(f"\nfull corpus: {files} files, {articles} articles, parsed in {elapsed:.1f}s")
    assert files >= 1600
    assert articles >= 70000
    assert elapsed < 60


@needs_laws
def test_civil_code_paths_and_metadata() -> None:
    root = LAWS
    catalog = Catalog.load(root / "catalog.csv") if (root / "catalog.csv").is_file() else None
    doc = parse(_load(root / "民法典" / "总则.md", root), catalog)
    meta = doc.meta
    assert meta.kind == "law"
    assert meta.title == "中华人民共和国民法典"
    assert meta.issued == "2020-05-28"
    assert meta.effective == "2021-01-01"
    if catalog is not None:
        assert meta.category == "法律"
        assert meta.status == "有效"
    art = {c.label: c for c in doc.clauses}
    assert art["第五十七条"].path == ["总则", "第三章 法人", "第一节 一般规定"]
    assert art["第五十四条"].text.startswith("第五十四条 自然人从事工商业经营")
    assert art["第一条"].path == ["总则", "第一章 基本规定"]


@needs_laws
def test_article_items_and_following_paragraphs_stay_in_the_article() -> None:
    rel = "其他省市地方法规/上海/上海市标准化条例(2019-07-25).md"
    if not (LAWS / rel).is_file():
        pytest.skip(rel)
    doc = parse(_load(LAWS / rel, LAWS))
    art = {c.label: c for c in doc.clauses}
    third = art["第三条"].text.split("\n")
    assert len(third) == 3 and third[1].startswith("市人民政府建立标准化协调机制")
    assert doc.meta.issued == "2001-12-28"


@needs_laws
def test_constitution_preamble_and_criminal_law_sub_articles() -> None:
    const = parse(_load(LAWS / "宪法" / "宪法.md", LAWS))
    assert const.clauses[0].label == "序言"
    assert "中国是世界上历史最悠久的国家之一" in const.clauses[0].text
    crim = parse(_load(LAWS / "刑法" / "刑法.md", LAWS))
    labels = [c.label for c in crim.clauses]
    assert "第十七条之一" in labels and "第一百二十条之一" in labels
    assert labels.index("第十七条之一") == labels.index("第十七条") + 1


# --- synthetic texts ------------------------------------------------------------------------

MD = """# 中华人民共和国示例法

2017年11月4日 第十二届全国人民代表大会常务委员会第三十次会议修订

<!-- INFO END -->

为了规范示例工作，制定本法。本序言足够长以成为一个条款。

## 第一章  总则

第一条 为了加强示例工作，制定本法。

第二条 有下列情形之一的，依照本法第一条规定处理：

（一）情形一；

（二）情形二。

第十条规定的事项，不在此限。

### 第一节 一般规定

第三条 依照本法第十条规定，
第四条 本法自2018年1月1日起施行。
"""


def _md(text: str, path: str = "示例法.md") -> LoadedFile:
    return LoadedFile(path=path, format="md", pages=[text])


def test_markdown_law_articles_never_split_at_quotes() -> None:
    doc = parse(_md(MD))
    assert doc.meta.kind == "law"
    assert doc.meta.title == "中华人民共和国示例法"
    assert doc.meta.issued == "2017-11-04"
    assert doc.meta.effective == "2018-01-01"
    labels = [c.label for c in doc.clauses]
    assert labels == ["序言", "第一条", "第二条", "第三条", "第四条"]
    second = doc.clauses[2]
    # items and the paragraph starting with a quoted "第十条规定" stay in 第二条
    assert second.text.endswith("第十条规定的事项，不在此限。")
    assert "（二）情形二。" in second.text
    assert second.path == ["第一章 总则"]
    assert doc.clauses[3].path == ["第一章 总则", "第一节 一般规定"]


def _plain_from_markdown(text: str) -> str:
    """The same law as a TXT/DOCX export: no Markdown, full-width spaces, history in （）."""
    head, body = text.split("<!-- INFO END -->", 1)
    lines = [x for x in head.splitlines() if x.strip()]
    title = lines[0].lstrip("# ")
    history = "（" + " ".join(x for x in lines[1:] if not x.startswith("#")) + "）"
    out = [title, history]
    for line in body.splitlines():
        line = line.lstrip("#").strip()
        if line:
            out.append(re.sub(rf"^(第{_CN}条(?:之{_CN})?) ", "\\1\u3000", line))
    return "\n".join(out)


@needs_laws
def test_plain_text_law_gives_the_same_articles() -> None:
    rel = "其他省市地方法规/上海/上海市标准化条例(2019-07-25).md"
    md = (LAWS / rel).read_text(encoding="utf-8")
    plain = LoadedFile(path="上海市标准化条例.txt", format="txt", pages=[_plain_from_markdown(md)])
    assert looks_like_law(plain)
    a = parse(_md(md, rel))
    b = parse(plain)
    assert b.meta.kind == "law"
    assert b.meta.title == "上海市标准化条例"
    assert b.meta.issued == "2001-12-28"
    assert [c.label for c in b.clauses] == [c.label for c in a.clauses]
    for x, y in zip(a.clauses, b.clauses, strict=True):
        assert _squash(x.text) == _squash(y.text), x.label
        assert x.path == y.path, x.label


def test_pdf_law_rejoins_wrapped_lines_and_tracks_pages() -> None:
    text = _plain_from_markdown(MD)
    # hard-wrap at 14 characters as a PDF text layer does, 6 lines a page, page numbers kept
    wrapped: list[str] = []
    for line in text.splitlines():
        wrapped += [line[i:i + 14] for i in range(0, len(line), 14)]
    pages = [wrapped[i:i + 6] for i in range(0, len(wrapped), 6)]
    loaded = LoadedFile(path="示例法.pdf", format="pdf",
                        pages=["\n".join([*p, f"- {n} -"]) for n, p in enumerate(pages, 1)])
    doc = parse_law(loaded)
    labels = [c.label for c in doc.clauses]
    assert labels == ["序言", "第一条", "第二条", "第三条", "第四条"]
    ref = {c.label: c for c in parse(_md(MD)).clauses}
    for c in doc.clauses:
        assert _squash(c.text) == _squash(ref[c.label].text), c.label
        assert 1 <= c.page_start <= c.page_end <= len(pages)
    assert doc.clauses[-1].page_end == len(pages)


def test_law_without_articles_falls_back_to_numbered_sections() -> None:
    text = ("# 全国人民代表大会常务委员会关于修改示例法的决定\n\n2020年1月1日 通过\n\n<!-- INFO END -->\n\n"
            "第十三届全国人民代表大会常务委员会决定对示例法作如下修改：\n\n"
            "一、将第十条修改为：“示例。”\n\n二、删去第十一条。\n\n本决定自公布之日起施行。\n")
    doc = parse(_md(text))
    assert doc.meta.kind == "law"
    assert [c.label for c in doc.clauses] == ["序言", "一", "二"]
    assert doc.clauses[-1].text.endswith("本决定自公布之日起施行。")


def test_duplicate_article_labels_keep_labels_and_get_unique_ids() -> None:
    text = ("# 示例条例\n\n<!-- INFO END -->\n\n第一条 甲。\n\n第二条 乙。\n\n## 附件 实施细则\n\n"
            "第一条 丙。\n\n第二条 丁。\n")
    chunks = chunk_document(parse(_md(text)))
    assert [c.clause for c in chunks] == ["第一条", "第二条", "第一条", "第二条"]
    assert len({c.id for c in chunks}) == 4
    assert chunks[2].heading == "附件 实施细则 > 第一条"
