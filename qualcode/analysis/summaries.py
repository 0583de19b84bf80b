"""Grounded, extractive theme summaries.

For each theme: how often and where it was coded (documents, groups, speakers, with contrasts
such as "in 18 of 21 focus groups but 12 of 44 expert interviews"), its sub-codes, its
distinctive terms (c-TF-IDF against the other themes), three to five representative and mutually
different quotes, the themes it overlaps with, and a paragraph written only from these facts.

Every sentence of the paragraph is a claim with the evidence spans that support it (one coded span
per document or speaker it counts, the words it names, the overlaps it reports), and every span's
text is checked to be the document's text at its offsets before the summary is returned.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from qualcode.analysis.terms import Vectors, class_tfidf, cosine, find_term, span_tokens, stop_words, tokens
from qualcode.analysis.units import NO_VALUE, Corpus, Coding
from qualcode.codebook import SEP, find_code
from qualcode.errors import QualcodeError
from qualcode.store.project import Project

QUOTE_MAX = 420     # characters: a quote a reader takes in at a glance
QUOTE_MIN = 40
TYPE_WORDS = {"focus_group": ("focus group", "focus groups"), "expert_interview": ("expert interview", "expert interviews"),
              "interview": ("interview", "interviews")}
GENDER_WORDS = {"female": ("woman", "women"), "male": ("man", "men"), "woman": ("woman", "women"),
                "man": ("man", "men"), "f": ("woman", "women"), "m": ("man", "men")}
CONTRAST = 0.2      # difference in share of documents worth a "but"


def plural(value: str, n: int = 2) -> str:
    one, many = TYPE_WORDS.get(value, (value.replace("_", " "), value.replace("_", " ").rstrip("s") + "s"))
    return one if n == 1 else many


class _Evidence:
    """The evidence list of one summary: spans deduplicated, referred to by index."""

    def __init__(self, corpus: Corpus, text_of):
        self.items: list[dict] = []
        self.index: dict[tuple, int] = {}
        self.corpus = corpus
        self.text_of = text_of

    def add(self, doc_id: str, start: int, end: int, code: str | None = None, coding_id: str | None = None) -> int:
        key = (doc_id, start, end)
        if key not in self.index:
            self.index[key] = len(self.items)
            self.items.append({"document": self.corpus.docs[doc_id]["name"], "start": start, "end": end,
                               "text": self.text_of(doc_id)[start:end], "code": code, "coding_id": coding_id})
        return self.index[key]

    def coding(self, c: Coding) -> int:
        return self.add(c.document_id, c.start, c.end, self.corpus.code_by_id[c.code_id]["path"], c.id)


def summarize(project: Project, codes: list[str] | None = None, coder: str | None = None,
              quotes: int = 5, terms: int = 8) -> list[dict]:
    """One summary per theme (or per requested code), each verified against the texts."""
    corpus = Corpus(project, coder=coder)
    texts: dict[str, str] = {}

    def text_of(doc_id: str) -> str:
        if doc_id not in texts:
            texts[doc_id] = project.one("SELECT text FROM documents WHERE id = ?", (doc_id,))["text"]
        return texts[doc_id]

    if codes:
        targets = [dict(find_code(project, c)) for c in codes]
    else:
        targets = [c for c in corpus.codes if c["parent_id"] is None]
    langs = tuple(sorted({d["language"] or "en" for d in corpus.docs.values()} or {"en"}))
    stop = stop_words(langs) | {s["label"].lower() for s in corpus.speakers.values()}

    def in_subtree(code_id: str, root_path: str) -> bool:
        p = corpus.code_by_id[code_id]["path"]
        return p == root_path or p.startswith(root_path + SEP)

    coding_tokens = {c.id: span_tokens(text_of(c.document_id), c.start, c.end, stop) for c in corpus.codings}
    vectors = Vectors(list(coding_tokens.values()))
    out = []
    for target in targets:
        root = target["path"]
        mine = [c for c in corpus.codings if in_subtree(c.code_id, root)]
        # classes for c-TF-IDF: this code's text against each other theme's (minus this code's codings)
        classes: dict[str, Counter] = {root: Counter()}
        for c in corpus.codings:
            key = root if in_subtree(c.code_id, root) else corpus.theme_of(c.code_id)["path"]
            classes.setdefault(key, Counter()).update(coding_tokens[c.id])
        distinctive = class_tfidf(classes).get(root, [])[:terms]
        summary = _summarise_one(corpus, target, mine, text_of, distinctive, vectors, coding_tokens, quotes, stop)
        out.append(summary)
    problems = verify(project, out)
    if problems:
        raise QualcodeError(f"summary evidence failed its check: {problems[0]}")
    for s in out:
        s["verified"] = True
    return out


def _summarise_one(corpus: Corpus, target: dict, mine: list[Coding], text_of, distinctive, vectors: Vectors,
                   coding_tokens, n_quotes: int, stop: frozenset[str]) -> dict:
    root, name = target["path"], target["name"]
    ev = _Evidence(corpus, text_of)
    claims: list[dict] = []

    def claim(kind: str, text: str, evidence: list[int]) -> None:
        claims.append({"kind": kind, "text": text, "evidence": sorted(set(evidence))})

    n_docs_total = len(corpus.docs)
    # while coding is under way, counts are out of the documents coded so far, said as such
    coded = {c.document_id for c in corpus.codings}
    partial = 0 < len(coded) < n_docs_total
    pool = coded if partial else set(corpus.docs)
    first_in_doc: dict[str, Coding] = {}
    for c in mine:
        first_in_doc.setdefault(c.document_id, c)
    coders = sorted({c.coder for c in mine})
    counts = {"codings": len(mine), "documents": len(first_in_doc), "documents_total": n_docs_total,
              "documents_coded": len(coded), "coders": coders}
    if not mine:
        claim("frequency", f"{name} has not been coded yet.", [])
        return _result(root, name, claims, ev, counts, [], [], [])

    where = (f"{len(first_in_doc)} of the {len(coded)} documents coded so far ({n_docs_total} in the project)"
             if partial else f"{len(first_in_doc)} of {n_docs_total} document{'s' * (n_docs_total != 1)}")
    claim("frequency", f"{name} was coded {len(mine)} time{'s' * (len(mine) != 1)} in {where}"
          + (f", by {len(coders)} coders." if len(coders) > 1 else "."),
          [ev.coding(c) for c in first_in_doc.values()])

    # where: document types (and cities) with their coverage, contrasted when they differ
    groups = {}
    for key in ("type", "city"):
        values = defaultdict(set)
        for d in pool:
            v = corpus.document_value(d, key)
            if v != NO_VALUE:
                values[v].add(d)
        if len(values) < 2:
            continue
        cover = {v: (len(docs & first_in_doc.keys()), len(docs)) for v, docs in values.items()}
        groups[key] = {v: {"with": w, "of": n} for v, (w, n) in cover.items()}
        ranked = sorted(cover.items(), key=lambda kv: (-kv[1][0] / kv[1][1], kv[0]))
        hi, lo = ranked[0], ranked[-1]
        gap = hi[1][0] / hi[1][1] - lo[1][0] / lo[1][1]
        evidence = [ev.coding(first_in_doc[d]) for d in values[hi[0]] | values[lo[0]] if d in first_in_doc]
        if key == "type":
            kind = "coded " if partial else ""
            parts = [f"{w} of {n} {kind}{plural(v, n)}" if w else f"none of the {n} {kind}{plural(v, n)}"
                     for v, (w, n) in ranked]
            joiner = " but " if gap >= CONTRAST else " and "
            if len(parts) == 2:
                text = f"It appears in {parts[0]}{joiner}{parts[1]}."
            else:
                text = f"It appears in {', '.join(parts[:-1])} and {parts[-1]}."
            claim("groups", text, [ev.coding(first_in_doc[d]) for d in first_in_doc])
        elif gap >= CONTRAST and hi[1][0]:
            claim("groups", f"By {key}, it is most present in {hi[0]} ({hi[1][0]} of {hi[1][1]} "
                  f"{'coded ' if partial else ''}documents) and "
                  f"least in {lo[0]} ({lo[1][0]} of {lo[1][1]}).", evidence)

    # who: participants voicing it, by gender when known
    first_by_speaker: dict[str, Coding] = {}
    for c in mine:
        for s in corpus.coding_speakers(c):
            if not corpus.is_interviewer(s):
                first_by_speaker.setdefault(s, c)
    counts["speakers"] = len(first_by_speaker)
    if first_by_speaker:
        genders = Counter(corpus.speaker_value(s, "gender") for s in first_by_speaker)
        known = [(GENDER_WORDS.get(g.lower(), (g, g))[n != 1], n) for g, n in genders.most_common() if g != NO_VALUE]
        detail = f" ({', '.join(f'{n} {g}' for g, n in known)})" if known else ""
        n = len(first_by_speaker)
        claim("speakers", f"{n} speaker{'s' * (n != 1)} other than interviewers and moderators "
              f"raise{'s' * (n == 1)} it{detail}.",
              [ev.coding(c) for c in first_by_speaker.values()])
        counts["speakers_by_gender"] = dict(genders)
    counts["groups"] = groups

    # sub-codes
    subs = Counter(corpus.code_by_id[c.code_id]["path"] for c in mine if corpus.code_by_id[c.code_id]["path"] != root)
    counts["sub_codes"] = dict(subs.most_common())
    if subs:
        top = subs.most_common(3)
        names = [f"{p.rsplit(SEP, 1)[-1]} ({n})" for p, n in top]
        text = "Its most frequent sub-code" + (f"s are {', '.join(names[:-1])} and {names[-1]}." if len(names) > 1
                                               else f" is {names[0]}.")
        evidence = []
        for p, _ in top:
            seen_docs = set()
            for c in mine:
                if corpus.code_by_id[c.code_id]["path"] == p and c.document_id not in seen_docs:
                    seen_docs.add(c.document_id)
                    evidence.append(ev.coding(c))
        claim("sub-codes", text, evidence)

    # distinctive terms, each linked to where it is said
    term_rows = []
    term_evidence = []
    for term, weight, n in distinctive:
        spans = []
        for c in mine:
            if term in coding_tokens[c.id]:
                for s, e in find_term(text_of(c.document_id)[c.start:c.end], term)[:1]:
                    spans.append(ev.add(c.document_id, c.start + s, c.start + e, None, c.id))
            if len(spans) >= 3:
                break
        if spans:
            term_rows.append({"term": term, "score": round(weight, 5), "count": n, "evidence": spans})
            term_evidence.extend(spans)
    if term_rows:
        claim("terms", "Words that set it apart from the other themes: "
              + ", ".join(f"“{t['term']}”" for t in term_rows) + ".", term_evidence)

    # themes it overlaps with (coded spans sharing text)
    overlaps: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    mine_ids = {c.id for c in mine}
    by_doc = defaultdict(list)
    for c in corpus.codings:
        by_doc[c.document_id].append(c)
    for c in mine:
        for o in by_doc[c.document_id]:
            if o.id in mine_ids or o.start >= c.end or o.end <= c.start:
                continue
            other = corpus.theme_of(o.code_id)["path"]
            if other == root.split(SEP, 1)[0]:  # a sibling sub-code: name it exactly
                other = corpus.code_by_id[o.code_id]["path"]
            overlaps[other].append((c.document_id, max(c.start, o.start), min(c.end, o.end)))
    co = sorted(((t, sorted(set(v))) for t, v in overlaps.items()), key=lambda kv: (-len(kv[1]), kv[0]))
    cooccurs = [{"code": t, "overlaps": len(spans)} for t, spans in co]
    if co:
        top = co[:3]
        names = [f"{t} ({len(spans)})" for t, spans in top]
        text = "It overlaps most with " + (f"{', '.join(names[:-1])} and {names[-1]}" if len(names) > 1
                                           else names[0]) + " (coded passages sharing text)."
        claim("co-occurrence", text, [ev.add(d, s, e) for _, spans in top for d, s, e in spans[:3]])

    quotes = select_quotes(corpus, mine, text_of, vectors, coding_tokens, n_quotes, stop)
    quote_rows = []
    for q in quotes:
        idx = ev.add(q["document_id"], q["start"], q["end"], q["code"], q["coding_id"])
        quote_rows.append({**{k: v for k, v in q.items() if k != "document_id"}, "evidence": idx})
    if quote_rows:
        claim("quotes", f"{len(quote_rows)} representative, mutually different quotes follow.",
              [q["evidence"] for q in quote_rows])
    return _result(root, name, claims, ev, counts, term_rows, cooccurs, quote_rows)


def _result(code, name, claims, ev, counts, terms, cooccurs, quotes) -> dict:
    paragraph = " ".join(c["text"] for c in claims if c["kind"] != "quotes")
    return {"code": code, "name": name, "summary": paragraph, "evidence": ev.items, "claims": claims,
            "counts": counts, "terms": terms, "cooccurs": cooccurs, "quotes": quotes}


# --- representative quotes ---------------------------------------------------------------------

def _windows(corpus: Corpus, c: Coding, text: str) -> list[tuple[int, int]]:
    """Quotable spans inside a coding: the coding itself when short, else runs of 1–3 of its
    sentences within one turn, never cutting a sentence."""
    spans = []
    whole = text[c.start:c.end]
    s, e = c.start + (len(whole) - len(whole.lstrip())), c.end - (len(whole) - len(whole.rstrip()))
    if QUOTE_MIN <= e - s <= QUOTE_MAX and "\n" not in text[s:e]:
        spans.append((s, e))
    iv = corpus.sentences.get(c.document_id)
    if iv is not None:
        inside = [i for i in iv.overlapping(c.start, c.end) if iv.starts[i] >= c.start and iv.ends[i] <= c.end]
        for k, i in enumerate(inside):
            for j in inside[k:k + 3]:
                a, b = iv.starts[i], iv.ends[j]
                if b - a > QUOTE_MAX:
                    break
                if b - a >= QUOTE_MIN and "\n" not in text[a:b]:
                    spans.append((a, b))
    return [(a, b) for a, b in spans if _balanced(text[a:b])]


def _balanced(t: str) -> bool:
    return t.count("[") == t.count("]") and t.count("(") == t.count(")") and t[:1] not in ",;:.)]—-"


def select_quotes(corpus: Corpus, mine: list[Coding], text_of, vectors: Vectors, coding_tokens,
                  n: int = 5, stop: frozenset[str] = frozenset()) -> list[dict]:
    """3–5 quotes close to the theme's centre, each unlike those already chosen (maximal marginal
    relevance), preferring documents and groups not yet quoted."""
    if not mine:
        return []
    centre = Vectors.centroid([vectors.vector(coding_tokens[c.id]) for c in mine])
    candidates = []
    for c in mine:
        text = text_of(c.document_id)
        best = None
        for a, b in _windows(corpus, c, text):
            vec = vectors.vector(tokens(text[a:b], stop))
            rel = cosine(vec, centre) * min(1.0, (b - a) / 120)
            if best is None or rel > best[0]:
                best = (rel, a, b, vec)
        if best:
            candidates.append((c, *best))
    want = min(n, max(3, len({c.document_id for c in mine})))
    chosen: list[tuple] = []
    while candidates and len(chosen) < want:
        def mmr(item):
            c, rel, a, b, vec = item
            sim = max((cosine(vec, o[4]) for o in chosen), default=0.0)
            same_doc = any(o[0].document_id == c.document_id for o in chosen)
            new_type = all(corpus.docs[o[0].document_id]["type"] != corpus.docs[c.document_id]["type"] for o in chosen)
            return 0.7 * rel - 0.3 * sim - (0.25 if same_doc else 0.0) + (0.05 if new_type and chosen else 0.0)

        best = max(candidates, key=mmr)
        candidates = [x for x in candidates if x is not best and not (
            x[0].document_id == best[0].document_id and x[2] < best[3] and x[3] > best[2])]
        chosen.append(best)
    out = []
    for c, rel, a, b, _ in chosen:
        sps = corpus.coding_speakers(c)
        speaker = ", ".join(corpus.speakers[s]["label"] for s in sps) or None
        out.append({"document": corpus.docs[c.document_id]["name"], "document_id": c.document_id, "start": a, "end": b,
                    "text": text_of(c.document_id)[a:b], "speaker": speaker,
                    "document_type": corpus.docs[c.document_id]["type"],
                    "code": corpus.code_by_id[c.code_id]["path"], "coding_id": c.id, "coder": c.coder,
                    "score": round(rel, 4)})
    return out


# --- verification ---------------------------------------------------------------------------------

def verify(project: Project, summaries: list[dict]) -> list[str]:
    """Problems found: a span whose text is not the document's text at its offsets, a claim citing
    no or unknown evidence, a quote that is not one of the evidence spans."""
    texts = {r["name"]: r["text"] for r in project.query("SELECT name, text FROM documents")}
    problems = []
    for s in summaries:
        for i, e in enumerate(s["evidence"]):
            doc = texts.get(e["document"])
            if doc is None or doc[e["start"]:e["end"]] != e["text"] or not e["text"]:
                problems.append(f"{s['code']}: evidence {i} ({e['document']} {e['start']}–{e['end']}) is not verbatim")
        for c in s["claims"]:
            if not c["evidence"] and s["counts"]["codings"]:
                problems.append(f"{s['code']}: claim without evidence: {c['text']}")
            if any(not 0 <= i < len(s["evidence"]) for i in c["evidence"]):
                problems.append(f"{s['code']}: claim cites unknown evidence: {c['text']}")
        for q in s["quotes"]:
            doc = texts.get(q["document"])
            if doc is None or doc[q["start"]:q["end"]] != q["text"]:
                problems.append(f"{s['code']}: quote {q['document']} {q['start']}–{q['end']} is not verbatim")
    return problems
