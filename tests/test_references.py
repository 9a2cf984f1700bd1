"""Cross-reference counting (assistant.references) and its effect on ranking."""

from __future__ import annotations

from pathlib import Path

from assistant.index import Index
from assistant.ingest import ingest
from assistant.records import Chunk, DocMeta
from assistant.references import count_references
from assistant.retrieve import Retriever


def _chunk(doc: str, clause: str, text: str) -> Chunk:
    return Chunk(id=f"{doc}#{clause}#0", doc=doc, clause=clause, text=text)


METAS = [
    DocMeta("civil/a.md", title="中华人民共和国民法典", kind="law"),
    DocMeta("civil/old.md", title="中华人民共和国合同法", kind="law", status="已失效"),
    DocMeta("civil/new.md", title="中华人民共和国合同法（2020年修正）", kind="law"),
    DocMeta("interp/b.md", title="最高人民法院关于适用《中华人民共和国民法典》的解释", kind="law"),
    DocMeta("std/c.pdf", title="标准化工作导则", kind="standard", std_no="GB/T 1.1—2020"),
    DocMeta("std/d.pdf", title="产品标准", kind="standard", std_no="DB50/T 9123—2022"),
]
CHUNKS = [
    _chunk("civil/a.md", "第一条", "第一条 为了保护民事主体的合法权益，制定本法。"),
    _chunk("civil/a.md", "第二条", "第二条 违反本法第一条规定的，依照第一千条处理。"),  # 第一千条 absent
    _chunk("civil/old.md", "第五条", "第五条 旧条文。"),
    _chunk("civil/new.md", "第五条", "第五条 新条文。"),
    _chunk("interp/b.md", "第一条", "第一条 依照民法典第一条和第二条的规定，参照《合同法》第五条。"),
    _chunk("interp/b.md", "第二条", "第二条 本解释第一条所称权益，包括第26条规定的权益。"),
    # a sentence that starts with 本… and cites another law: "民法典" is what is named
    _chunk("interp/b.md", "第三条", "第三条 本解释所称信息属于民法典第二条规定的权益。"),
    _chunk("std/d.pdf", "2", "2 规范性引用文件 GB/T 1.1-2020 标准化工作导则 第1部分"),
    _chunk("std/c.pdf", "1", "1 范围 本文件规定了 GB/T 1.1—2020 的结构。"),  # cites itself
]


def test_counts_documents_and_articles():
    current = {"civil/old.md": False}
    refs = count_references(METAS, CHUNKS, lambda d: current.get(d, True))
    # 民法典: cited in the interpretation's title and text (one citing document);
    # 合同法: both versions are the cited document; GB/T 1.1 by the DB50 standard only.
    assert refs.doc_in == {"civil/a.md": 1, "civil/old.md": 1, "civil/new.md": 1, "std/c.pdf": 1}
    assert refs.clause_in == {
        ("civil/a.md", "第一条"): 2,  # 本法第一条 (from 第二条) + 民法典第一条
        ("civil/a.md", "第二条"): 2,  # "和第二条" follows the law named before it; 第三条
        ("civil/new.md", "第五条"): 1,  # articles count on the version in force
        ("interp/b.md", "第一条"): 1,  # 本解释第一条
    }


def test_no_references_no_prior():
    refs = count_references(METAS[:1], CHUNKS[:1], lambda d: True)
    assert refs.empty()


def _write(root: Path, name: str, text: str) -> None:
    (root / name).write_text(text, "utf-8")


def test_cited_document_and_article_rank_first(settings, tmp_path):
    root = tmp_path / "laws"
    root.mkdir()
    body = "第一条 经营者应当保证所售商品的质量。\n\n第二条 经营者应当保证所售商品的质量并提供凭证。\n"
    _write(root, "丙法.md", "# 中华人民共和国丙法\n\n" + body)
    _write(root, "丁法.md", "# 中华人民共和国丁法\n\n" + body)
    for i in range(3):
        _write(root, f"戊{i}.md", f"# 戊{i}办法\n\n第一条 依照《中华人民共和国丁法》第二条，制定本办法。\n")
    query = "经营者 商品 质量"

    def scores(**kw: float) -> dict[tuple[str, str], float]:
        s = settings.with_overrides(**kw)
        hits = Retriever(Index.open(s), s).search(query, k=10, mode="bm25")
        return {(h.chunk.doc, h.chunk.clause): h.score for h in hits}

    ingest([root], settings, progress=False)
    on = scores()
    assert max(on, key=on.__getitem__) == ("丁法.md", "第二条")  # cited by three documents
    assert on[("丁法.md", "第一条")] > on[("丙法.md", "第一条")]  # the document prior alone
    off = scores(centrality_weight=0.0, citation_weight=0.0)
    # same text: without the priors the two laws score alike (titles tokenise differently)
    assert abs(off[("丁法.md", "第二条")] / off[("丙法.md", "第二条")] - 1) < 0.05
    assert on[("丁法.md", "第二条")] / on[("丙法.md", "第二条")] > 1.2


def test_removing_a_document_recounts(settings, tmp_path):
    from assistant.service import Assistant

    root = tmp_path / "laws"
    root.mkdir()
    _write(root, "甲法.md", "# 中华人民共和国甲法\n\n第一条 甲事项应当登记。\n")
    _write(root, "乙办法.md", "# 乙办法\n\n第一条 依照《中华人民共和国甲法》第一条办理。\n")
    a = Assistant(settings)
    a.ingest([root], progress=False)
    assert a.index.references().clause_in == {("甲法.md", "第一条"): 1}
    assert a.remove("乙办法.md")
    assert a.index.references().empty()


def test_priors_do_not_overrule_a_single_retrievers_clear_winner(settings, tmp_path):
    # Ranked by reciprocal rank, rank 1 and rank 2 differ by under 2 %, so the priors alone
    # would put the cited law's weak match first; on normalised scores the strong match stays.
    root = tmp_path / "laws"
    root.mkdir()
    _write(root, "甲法.md", "# 中华人民共和国甲法\n\n第一条 文件由负责人签发。\n")
    _write(root, "乙办法.md", "# 乙办法\n\n第一条 检验报告应当由授权签字人签发，检验报告应当加盖检验专用章。\n")
    for i in range(3):
        _write(root, f"丙{i}.md", f"# 丙{i}规定\n\n第一条 依照《中华人民共和国甲法》第一条，制定本规定。\n")
    ingest([root], settings, progress=False)
    idx = Index.open(settings)
    for mode in ("bm25", "dense", "hybrid"):
        hits = Retriever(idx, settings).search("检验报告由授权签字人签发", k=3, mode=mode)
        assert hits[0].chunk.doc == "乙办法.md", mode


def test_new_counting_rules_recount_on_next_ingest(settings, tmp_path, monkeypatch):
    import assistant.references as references

    root = tmp_path / "laws"
    root.mkdir()
    _write(root, "甲法.md", "# 中华人民共和国甲法\n\n第一条 甲事项应当登记。\n")
    _write(root, "乙办法.md", "# 乙办法\n\n第一条 依照《中华人民共和国甲法》第一条办理。\n")
    ingest([root], settings, progress=False)
    index = Index.open(settings)
    assert not index.references_stale()
    # the rules change (an upgrade): the unchanged index is stale and the next ingest,
    # with no file changed, counts again by the new rules
    monkeypatch.setattr(references, "REFERENCES_VERSION", "test-next")
    real = references.count_references
    calls: list[int] = []
    monkeypatch.setattr(references, "count_references",
                        lambda *a, **kw: (calls.append(1), real(*a, **kw))[1])
    assert index.references_stale()
    report = ingest([root], settings, progress=False)
    assert report.count("unchanged") == 2 and calls == [1]
    assert not Index.open(settings).references_stale()
    ingest([root], settings, progress=False)
    assert calls == [1]  # counted once, not on every ingest
