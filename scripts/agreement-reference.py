#!/usr/bin/env python3
"""
Writes tests/fixtures/agreement/reference.json: reliability data and the agreement
figures GET /projects/{id}/agreement must answer for it, computed here independently of
the API's SQL (src/features/agreement/agreement.sql.ts):

- Krippendorff's alpha from the coincidence-matrix definition (Krippendorff 2011,
  "Computing Krippendorff's Alpha-Reliability"), in plain numpy: the matrix o_ck is
  built value pair by value pair and the metric differences delta_ck are tabulated
  (nominal, ordinal from the marginals n_g, interval);
- Fleiss' kappa with statsmodels.stats.inter_rater.fleiss_kappa;
- Cohen's kappa with sklearn.metrics.cohen_kappa_score;
- percent agreement by enumerating the pairs of answers within each row.

Cases: the published worked examples (Krippendorff 2011's 4 coders x 12 units with
missing values; Fleiss 1971's 30 subjects x 6 raters; Wikipedia's "Fleiss' kappa"
10 subjects x 14 raters; Wikipedia's "Cohen's kappa" 50 yes/no ratings) and seeded
random data (every question type, missing answers, rows with one answer).

Regenerate (Debian's packages; pip has no index here):
    apt-get install -y python3-numpy python3-scipy python3-statsmodels python3-sklearn
    /usr/bin/python3 scripts/agreement-reference.py
The output is deterministic (fixed seeds); tests/agreement.test.ts loads it.
"""

import itertools
import json
import math
import os
import random
import warnings
from collections import Counter

import numpy as np
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "agreement", "reference.json")
AGREEMENT_TYPES = ("label", "multi_label", "rating", "number")
METRIC = {"label": "nominal", "multi_label": "nominal", "rating": "ordinal", "number": "interval"}


def krippendorff_alpha(units, metric):
    """units: one list of values per unit (missing values left out). The 2011 paper's steps."""
    pairable = [u for u in units if len(u) >= 2]
    values = sorted({v for u in pairable for v in u})
    if not values:
        return None
    index = {v: i for i, v in enumerate(values)}
    o = np.zeros((len(values), len(values)))
    for u in pairable:
        m = len(u)
        for i, j in itertools.permutations(range(m), 2):
            o[index[u[i]], index[u[j]]] += 1.0 / (m - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    delta = np.zeros_like(o)
    for c, k in itertools.product(range(len(values)), repeat=2):
        if metric == "nominal":
            delta[c, k] = 0.0 if c == k else 1.0
        elif metric == "interval":
            delta[c, k] = (values[c] - values[k]) ** 2
        elif metric == "ordinal":
            lo, hi = min(c, k), max(c, k)
            delta[c, k] = (n_c[lo:hi + 1].sum() - (n_c[c] + n_c[k]) / 2.0) ** 2
    d_o = (o * delta).sum() / n
    d_e = (np.outer(n_c, n_c) * delta).sum() / (n * (n - 1))
    if d_e == 0:
        return None
    return float(1.0 - d_o / d_e)


def percent_agreement(units):
    agreeing = total = 0
    for u in units:
        if len(u) < 2:
            continue
        for a, b in itertools.permutations(u, 2):
            total += 1
            agreeing += a == b
    return agreeing / total if total else None


def fleiss(units):
    pairable = [u for u in units if len(u) >= 2]
    if not pairable or len({len(u) for u in pairable}) != 1:
        return None
    categories = sorted({v for u in pairable for v in u})
    codes = np.array([[categories.index(v) for v in u] for u in pairable])
    table, _ = aggregate_raters(codes, n_cat=len(categories))
    p_e = ((table.sum(axis=0) / table.sum()) ** 2).sum()
    if math.isclose(p_e, 1.0, rel_tol=0, abs_tol=1e-15):
        return None
    return float(fleiss_kappa(table, method="fleiss"))


def cohen(a, b):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kappa = cohen_kappa_score([str(v) for v in a], [str(v) for v in b])
    return None if math.isnan(kappa) else float(kappa)


def value_of(question, option, data):
    """The value an answer gives (None when missing), as the API's type rules say."""
    answer = data.get(question["name"])
    kind = question["type"]
    if kind == "label":
        return answer if isinstance(answer, str) else None
    if kind == "multi_label":
        return (option in answer) if isinstance(answer, list) else None
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return None
    return answer


def expected_figures(questions, responses):
    """responses: [{row, annotator, data}]; annotators are indices, pairs ordered by index."""
    figures, pairs = [], []
    for question in questions:
        if question["type"] not in AGREEMENT_TYPES:
            continue
        options = question["options"] if question["type"] == "multi_label" else [None]
        for option in options:
            by_row = {}
            for response in responses:
                value = value_of(question, option, response["data"])
                if value is not None:
                    by_row.setdefault(response["row"], {})[response["annotator"]] = value
            units = [list(answers.values()) for _, answers in sorted(by_row.items())]
            pairable_rows = {row: answers for row, answers in by_row.items() if len(answers) >= 2}
            raters = sorted({annotator for answers in pairable_rows.values() for annotator in answers})
            entry_pairs = []
            for ra, rb in itertools.combinations(raters, 2):
                shared = [row for row, answers in sorted(pairable_rows.items()) if ra in answers and rb in answers]
                if not shared:
                    continue
                kappa = cohen([pairable_rows[r][ra] for r in shared], [pairable_rows[r][rb] for r in shared])
                entry_pairs.append({"question": question["name"], "option": option, "annotator_a": ra, "annotator_b": rb,
                                    "rows": len(shared), "cohen_kappa": kappa})
            figures.append({
                "name": question["name"], "type": question["type"], "option": option,
                "raters": len(raters), "rows": len(pairable_rows),
                "percent_agreement": percent_agreement(units),
                "krippendorff_alpha": krippendorff_alpha(units, METRIC[question["type"]]),
                "fleiss_kappa": fleiss(units),
                "cohen_kappa": entry_pairs[0]["cohen_kappa"] if len(raters) == 2 else None,
            })
            pairs.extend(entry_pairs)
    return {"questions": figures, "pairs": pairs}


def case(name, questions, responses, published=None, rows=None):
    rows = rows if rows is not None else 1 + max(r["row"] for r in responses)
    return {"name": name, "rows": rows, "annotators": 1 + max(r["annotator"] for r in responses), "questions": questions,
            "responses": responses, "expected": expected_figures(questions, responses), "published": published or {}}


# Krippendorff (2011), section "C. Multiple values ... with missing values": 4 observers, 12 units.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def krippendorff_case():
    questions = [
        {"name": "code_label", "type": "label", "required": False, "options": ["1", "2", "3", "4", "5"]},
        {"name": "code_rating", "type": "rating", "required": False, "min": 1, "max": 5},
        {"name": "code_number", "type": "number", "required": False},
    ]
    responses = [
        {"row": unit, "annotator": coder, "data": {"code_label": str(v), "code_rating": v, "code_number": v}}
        for coder, values in enumerate(KRIPPENDORFF_2011) for unit, v in enumerate(values) if v is not None
    ]
    published = {"code_label": {"krippendorff_alpha": 0.743}, "code_rating": {"krippendorff_alpha": 0.815},
                 "code_number": {"krippendorff_alpha": 0.849}}
    return case("krippendorff-2011", questions, responses, published)


# Fleiss (1971), Table 1 as R's irr::diagnoses: 30 patients, 6 psychiatrists, 5 diagnoses.
FLEISS_1971 = [
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
    [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
    [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
    [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
    [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]
DIAGNOSES = ["depression", "personality_disorder", "schizophrenia", "neurosis", "other"]


def fleiss_1971_case():
    questions = [{"name": "diagnosis", "type": "label", "required": True, "options": DIAGNOSES}]
    responses = [{"row": row, "annotator": rater, "data": {"diagnosis": DIAGNOSES[code - 1]}}
                 for row, codes in enumerate(FLEISS_1971) for rater, code in enumerate(codes)]
    return case("fleiss-1971", questions, responses, {"diagnosis": {"fleiss_kappa": 0.430}})


# Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, counts per category 1..5.
WIKIPEDIA_FLEISS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def wikipedia_fleiss_case():
    options = ["c1", "c2", "c3", "c4", "c5"]
    questions = [{"name": "category", "type": "label", "required": True, "options": options}]
    responses = []
    for row, counts in enumerate(WIKIPEDIA_FLEISS):
        # Which rater chose what does not change Fleiss' kappa: raters take the categories in order.
        chosen = [options[c] for c, count in enumerate(counts) for _ in range(count)]
        responses.extend({"row": row, "annotator": rater, "data": {"category": label}} for rater, label in enumerate(chosen))
    return case("wikipedia-fleiss", questions, responses, {"category": {"fleiss_kappa": 0.210}})


def wikipedia_cohen_case():
    """Wikipedia, "Cohen's kappa", first example: 50 proposals, readers A and B; 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no."""
    questions = [{"name": "grant", "type": "label", "required": True, "options": ["yes", "no"]}]
    cells = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    responses = []
    for row, (a, b) in enumerate(cells):
        responses.append({"row": row, "annotator": 0, "data": {"grant": a}})
        responses.append({"row": row, "annotator": 1, "data": {"grant": b}})
    return case("wikipedia-cohen", questions, responses, {"grant": {"cohen_kappa": 0.4, "percent_agreement": 0.7}})


RANDOM_QUESTIONS = [
    {"name": "sentiment", "type": "label", "required": False, "options": ["pos", "neg", "neu", "mixed"]},
    {"name": "topics", "type": "multi_label", "required": False, "options": ["price", "service", "quality"]},
    {"name": "stars", "type": "rating", "required": False, "min": 1, "max": 7},
    {"name": "score", "type": "number", "required": False},
    {"name": "note", "type": "text", "required": False},
]


def random_answer(rng, truth, missing):
    """An answer near the row's 'truth' (so that figures are neither 0 nor 1), each question missing with probability `missing`."""
    data = {}
    if rng.random() >= missing:
        data["sentiment"] = truth["sentiment"] if rng.random() < 0.6 else rng.choice(RANDOM_QUESTIONS[0]["options"])
    if rng.random() >= missing:
        data["topics"] = [o for o in RANDOM_QUESTIONS[1]["options"] if (o in truth["topics"]) != (rng.random() < 0.2)]
    if rng.random() >= missing:
        data["stars"] = min(7, max(1, truth["stars"] + rng.choice([-2, -1, 0, 0, 0, 1, 2])))
    if rng.random() >= missing:
        data["score"] = round(truth["score"] + rng.gauss(0, 15), 3)
    if rng.random() > 0.5:
        data["note"] = rng.choice(["ok", "unclear"])
    return data


def random_case(name, seed, rows, annotators, per_row, complete=False):
    """per_row: (fewest, most) annotators answering a row; complete: every answer to every agreement question present."""
    rng = random.Random(seed)
    responses = []
    for row in range(rows):
        truth = {"sentiment": rng.choice(RANDOM_QUESTIONS[0]["options"]),
                 "topics": [o for o in RANDOM_QUESTIONS[1]["options"] if rng.random() < 0.4],
                 "stars": rng.randint(1, 7), "score": round(rng.uniform(-100, 400), 3)}
        chosen = sorted(rng.sample(range(annotators), rng.randint(*per_row)))
        for annotator in chosen:
            data = random_answer(rng, truth, 0.0 if complete else 0.1)
            responses.append({"row": row, "annotator": annotator, "data": data})
    return case(name, RANDOM_QUESTIONS, responses, rows=rows)


def main():
    cases = [
        krippendorff_case(),
        fleiss_1971_case(),
        wikipedia_fleiss_case(),
        wikipedia_cohen_case(),
        random_case("random-three-complete", 20261204, rows=120, annotators=3, per_row=(3, 3), complete=True),
        random_case("random-missing", 4242, rows=150, annotators=6, per_row=(1, 4)),
        random_case("random-two", 7, rows=100, annotators=2, per_row=(1, 2)),
    ]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as out:
        json.dump({"generated_by": "scripts/agreement-reference.py", "cases": cases}, out, indent=None, separators=(",", ":"))
        out.write("\n")
    for c in cases:
        print(c["name"], [(q["name"], q["option"], q["krippendorff_alpha"], q["fleiss_kappa"], q["cohen_kappa"]) for q in c["expected"]["questions"]][:4])


if __name__ == "__main__":
    main()
