"""Code saturation: how many codes each transcript added that no earlier transcript had, in the
order the transcripts were coded. A long run of transcripts adding nothing new is the usual
argument (Guest et al. 2006) that further coding would add little.
"""

from __future__ import annotations

from qualcode.analysis.units import Corpus
from qualcode.store.project import Project


def saturation(project: Project, order: str = "coding", coder: str | None = None, themes: bool = False,
               corpus: Corpus | None = None) -> dict:
    """{"order","level","rows":[{"document","new","new_codes":[...],"codes","cumulative","codings"}],
    "total", "codebook_size", "last_new_at", "since_last_new"}.

    order "coding": documents by the time of their first coding (ties: import order);
    "import": import order. Only documents with codings are listed.
    """
    corpus = corpus or Corpus(project, coder=coder)
    first: dict[str, tuple] = {}
    by_doc: dict[str, list] = {}
    for c in corpus.codings:
        by_doc.setdefault(c.document_id, []).append(c)
        key = (c.created_at, corpus.docs[c.document_id]["position"])
        if c.document_id not in first or key < first[c.document_id]:
            first[c.document_id] = key
    position = {d: i for i, d in enumerate(corpus.doc_order)}
    if order == "import":
        docs = sorted(by_doc, key=lambda d: position[d])
    else:
        docs = sorted(by_doc, key=lambda d: (first[d], position[d]))

    def label(code_id: str) -> str:
        return corpus.theme_of(code_id)["path"] if themes else corpus.code_by_id[code_id]["path"]

    tree_order = {c["path"]: i for i, c in enumerate(corpus.codes)}
    seen: set[str] = set()
    rows = []
    for i, d in enumerate(docs, start=1):
        # within a document, codes enter in the order they were applied
        items = sorted(by_doc[d], key=lambda c: (c.created_at, c.start))
        here = []
        for c in items:
            lab = label(c.code_id)
            if lab not in here:
                here.append(lab)
        new = [lab for lab in here if lab not in seen]
        seen.update(new)
        rows.append({"index": i, "document": corpus.docs[d]["name"], "first_coded_at": first[d][0],
                     "codings": len(items), "codes": len(here), "new": len(new),
                     "new_codes": sorted(new, key=lambda p: tree_order.get(p, 1 << 30)),
                     "cumulative": len(seen)})
    last_new = max((r["index"] for r in rows if r["new"]), default=0)
    size = len({c["path"].split("/", 1)[0] for c in corpus.codes}) if themes else len(corpus.codes)
    return {"order": order, "level": "theme" if themes else "code", "rows": rows, "total": len(seen),
            "codebook_size": size,
            "last_new_at": rows[last_new - 1]["document"] if last_new else None,
            "since_last_new": len(rows) - last_new if rows else 0}
