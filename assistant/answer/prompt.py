"""What a language model is sent: the rules, the last turns, the numbered sources and the
question."""

from __future__ import annotations

from collections.abc import Sequence

from ..cite import source_label, status_warning, strip_markers
from ..records import Hit
from .registry import History

PROMPT_SOURCES = 6
PROMPT_SOURCE_CHARS = 900
HISTORY_TURNS = 3

SYSTEM_PROMPT = (
    "你是标准、法律法规和政策文件的合规咨询助手。\n"
    "规则：\n"
    "1. 只依据用户消息中编号的【资料】回答，不得使用资料以外的知识，不得编造条款、数字或标准编号。\n"
    "2. 每一句话的句末都必须用方括号编号标注所依据的资料，例如 [1] 或 [1][3]；只能使用给出的编号。\n"
    "3. 期限、金额、比例、日期和标准编号必须与资料原文完全一致。\n"
    "4. 标注为已废止、已失效或被代替的资料仅供参考，应优先依据现行版本并提示用户。\n"
    "5. 如果资料没有给出问题所问的内容（例如所问的数值、期限、数量、清单、程序或版本间的变化），"
    "直接回答“现有资料未对此作出规定”，并说明最接近的是哪条资料；不得用资料以外的知识补充，也不要猜测。\n"
    "6. 不要只复述资料的标题或编号，要写出回答问题的内容；问数值时必须写出资料中的原数值。\n"
    "7. 使用简体中文，简洁准确，一般不超过300字。"
)


def build_messages(question: str, sources: Sequence[Hit], history: History | None = None) -> list[dict[str, str]]:
    """Chat messages: system rules, the last turns, then the numbered sources and question."""
    msgs = [{"role": "system", "content": SYSTEM_PROMPT}]
    for user, assistant in list(history or [])[-HISTORY_TURNS:]:
        msgs.append({"role": "user", "content": user})
        # old markers refer to old sources: drop them so they are not reused
        msgs.append({"role": "assistant", "content": strip_markers(assistant or "")})
    blocks = []
    for n, h in enumerate(sources, 1):
        warn = status_warning(h.chunk.status, h.superseded, h.replaced_by)
        head = f"[{n}] {source_label(h)}" + (f"〔{warn}〕" if warn else "")
        text = h.chunk.text.strip()
        if len(text) > PROMPT_SOURCE_CHARS:
            text = text[:PROMPT_SOURCE_CHARS] + "…"
        blocks.append(f"{head}\n{text}")
    user = "【资料】\n" + "\n\n".join(blocks) + f"\n\n【问题】\n{question}\n\n请依据以上资料回答，每句句末标注资料编号。"
    msgs.append({"role": "user", "content": user})
    return msgs


def prompt_sources(hits: Sequence[Hit]) -> list[Hit]:
    """The hits given to the model: the top few, each chunk once."""
    out: list[Hit] = []
    seen: set[str] = set()
    for h in hits:
        if h.chunk.id in seen:
            continue
        seen.add(h.chunk.id)
        out.append(h)
        if len(out) == PROMPT_SOURCES:
            break
    return out
