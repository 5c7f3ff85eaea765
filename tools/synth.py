"""Generate a synthetic knowledge base of N incidents, for benchmarks and load tests.

    python tools/synth.py 10000 /tmp/kb [--seed 0]

or, from Python, `generate(n, out_dir, seed=0)`. The output is a complete knowledge base
(mkdocs.yml, schema/taxonomy.yml, docs/index.md, incidents/<year>/<id>.md) shaped like
a real one rather than like a fixture: bodies of a few kilobytes of varied Markdown,
root causes drawn from a skewed (Zipf-like) distribution over the taxonomy's categories,
severities skewed towards SEV3, mostly final write-ups, start times over several years.
Every generated incident is meant to validate with no error and no warning; the
benchmark checks that before it times anything.

The same seed gives byte-identical files, so two machines or two commits benchmark the
same knowledge base.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent

FIRST_YEAR = 2019
YEARS = 7  # started is spread over 2019-2025

SERVICES = [
    "fraud-scoring-api", "recommendations-api", "search-ranking", "ads-bidder", "pricing-engine",
    "churn-predictor", "eta-model-service", "feature-store", "feature-pipeline", "training-platform",
    "model-registry", "inference-gateway", "embedding-service", "llm-assistant", "moderation-classifier",
    "ocr-service", "translation-api", "speech-to-text", "forecasting-batch", "anomaly-detector",
    "checkout-api", "payments-gateway", "identity-service", "notifications", "web-frontend",
    "mobile-backend", "catalog-service", "inventory-sync", "data-lake-ingest", "kafka-cluster",
    "postgres-primary", "object-storage", "k8s-cluster-eu", "k8s-cluster-us", "cdn-edge",
    "dns", "ci-runners", "experimentation-platform", "label-tool", "reporting-warehouse",
]
ML_SERVICES = {
    "fraud-scoring-api": "fraud-gbm", "recommendations-api": "recsys-two-tower", "search-ranking": "ltr-lambdamart",
    "ads-bidder": "ctr-deepfm", "pricing-engine": "price-elasticity", "churn-predictor": "churn-xgb",
    "eta-model-service": "eta-regressor", "embedding-service": "text-embedder", "llm-assistant": "assistant-llm",
    "moderation-classifier": "toxicity-bert", "ocr-service": "ocr-crnn", "translation-api": "nmt-transformer",
    "speech-to-text": "asr-conformer", "forecasting-batch": "demand-forecaster", "anomaly-detector": "isolation-forest",
}
DATASETS = ["events.clickstream", "payments.transactions", "users.profiles", "catalog.items", "labels.fraud_chargebacks",
            "features.user_30d", "features.item_embeddings", "search.query_logs", "support.tickets", "sensors.telemetry"]
TEAMS = ["ml-platform", "fraud-ml", "search-relevance", "recsys", "data-engineering", "sre", "payments",
         "growth-ml", "trust-and-safety", "applied-nlp", "forecasting", "core-infra"]
PEOPLE = ["a.okafor", "b.lindqvist", "c.moreau", "d.tanaka", "e.schmidt", "f.haddad", "g.rossi", "h.nguyen",
          "i.kowalski", "j.silva", "k.patel", "l.osei", "m.dubois", "n.yilmaz", "o.petrov", "p.garcia"]
TAGS = ["ml", "latency", "data-quality", "customer-facing", "revenue", "on-call", "rollback", "drift",
        "batch", "streaming", "gpu", "llm", "security", "compliance", "regional", "weekend"]
OFFSETS = [None, None, None, None, "Z", "+02:00", "-05:00", "+05:30", "+01:00"]

WORDS = ("the model service pipeline feature store request latency error rate traffic batch job partition "
         "threshold score alert dashboard rollout canary deploy config flag upstream downstream consumer "
         "producer schema column table label drift retrain evaluation metric regression queue worker node "
         "cluster region replica cache timeout retry budget quota capacity memory disk certificate token "
         "vendor endpoint gateway customer user team on-call runbook owner review incident impact signal").split()
VERBS = ("dropped rose stalled failed returned degraded recovered timed-out spiked drifted skipped doubled "
         "fell stopped restarted paged rolled-back blocked leaked expired saturated").split()


def _sentence(rng: random.Random, words: int | None = None) -> str:
    n = words or rng.randint(8, 22)
    parts = [rng.choice(WORDS) for _ in range(n)]
    parts[rng.randrange(1, n)] = rng.choice(VERBS)
    text = " ".join(parts)
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random, sentences: tuple[int, int] = (3, 6)) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(*sentences)))


def _zipf_weights(k: int, s: float = 1.1) -> list[float]:
    return [1.0 / (rank ** s) for rank in range(1, k + 1)]


@dataclass
class _Vocab:
    severities: list[str]
    severity_weights: list[float]
    detections: list[str]
    dimensions: list[str]
    categories: list[str]          # in Zipf rank order (a seed-fixed shuffle)
    category_weights: list[float]


def _vocab(taxonomy: dict, rng: random.Random) -> _Vocab:
    sev = [s["id"] for s in taxonomy["severities"]]
    # Most incidents are minor: weight the third-most-severe highest, fall off either side.
    base = {0: 0.04, 1: 0.16, 2: 0.55, 3: 0.25}
    sev_w = [base.get(i, 0.1) for i in range(len(sev))]
    cats = [f"{layer['id']}/{c['id']}" for layer in taxonomy["layers"] for c in layer["categories"]]
    rng.shuffle(cats)
    return _Vocab(sev, sev_w, [d["id"] for d in taxonomy["detection_sources"]],
                  [d["id"] for d in taxonomy["dimensions"]], cats, _zipf_weights(len(cats)))


def _ts(rng: random.Random, dt: datetime) -> str:
    """A timestamp as people write it: mostly naive (read in UTC), sometimes with an offset."""
    off = rng.choice(OFFSETS)
    if off is None:
        return dt.strftime("%Y-%m-%d %H:%M")
    if off == "Z":
        return dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    sign = 1 if off[0] == "+" else -1
    delta = timedelta(hours=int(off[1:3]), minutes=int(off[4:6])) * sign
    return (dt + delta).strftime("%Y-%m-%d %H:%M") + " " + off


def _q(text: str) -> str:
    """A YAML double-quoted scalar."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _front(rng: random.Random, voc: _Vocab, inc_id: str, started: datetime, earlier: list[str]) -> tuple[str, dict]:
    status = rng.choices(["final", "review", "draft"], [0.85, 0.1, 0.05])[0]
    severity = rng.choices(voc.severities, voc.severity_weights)[0]
    services = rng.sample(SERVICES, rng.choices([1, 2, 3], [0.6, 0.3, 0.1])[0])
    detected = started + timedelta(minutes=rng.randint(1, 240))
    mitigated = detected + timedelta(minutes=rng.randint(5, 300))
    resolved = mitigated + timedelta(minutes=rng.randint(10, 60 * 48))
    n_causes = rng.choices([1, 2, 3], [0.6, 0.3, 0.1])[0]
    causes: list[str] = []
    while len(causes) < n_causes:
        c = rng.choices(voc.categories, voc.category_weights)[0]
        if c not in causes:
            causes.append(c)
    title = f"{services[0]}: {_sentence(rng, rng.randint(4, 9))[:-1].lower()}"
    lines = [
        f"id: {inc_id}",
        f"title: {_q(title)}",
        f"status: {status}",
        f"severity: {severity}",
        f"started: {_ts(rng, started)}",
        f"detected: {_ts(rng, detected)}",
    ]
    if rng.random() < 0.8:
        lines.append(f"mitigated: {_ts(rng, mitigated)}")
    lines.append(f"resolved: {_ts(rng, resolved)}")
    lines.append(f"detection: {rng.choice(voc.detections)}")
    lines.append("summary: >-")
    lines.extend("  " + chunk for chunk in _wrap(_paragraph(rng, (2, 4))))
    lines.append("services: [" + ", ".join(services) + "]")
    lines.append(f"team: {rng.choice(TEAMS)}")
    lines.append("authors: [" + ", ".join(rng.sample(PEOPLE, rng.randint(1, 3))) + "]")
    lines.append(f"impact: {_q(_sentence(rng))}")
    lines.append(f"users_affected: {rng.choice([0, 12, 150, 2300, 48000, 1200000])}")
    ml = [s for s in services if s in ML_SERVICES]
    if ml:
        lines.append("models:")
        for s in ml:
            lines.append(f"  - {{name: {ML_SERVICES[s]}, version: \"{rng.randint(1, 9)}.{rng.randint(0, 12)}\"}}")
        lines.append("datasets:")
        for d in rng.sample(DATASETS, rng.randint(1, 3)):
            if rng.random() < 0.5:
                lines.append(f"  - name: {d}\n    version: \"{started.date().isoformat()}\"")
            else:
                lines.append(f"  - {{name: {d}}}")
    lines.append("dimensions:")
    for dim in voc.dimensions:
        contribution = rng.choice(["none", "low", "medium", "high"])
        lines.append(f"  {dim}:")
        lines.append(f"    contribution: {contribution}")
        if contribution != "none":
            lines.append("    evidence:")
            lines.extend(f"      - {_q(_sentence(rng))}" for _ in range(rng.randint(1, 2)))
    lines.append("root_causes:")
    for c in causes:
        lines.append(f"  - category: {c}")
        lines.append(f"    description: {_q(_sentence(rng))}")
    lines.append(f"trigger: {_q(_sentence(rng, 10))}")
    lines.append("action_items:")
    for _ in range(rng.randint(1, 5)):
        status_ai = rng.choices(["done", "open", "in-progress", "wont-do"], [0.5, 0.25, 0.15, 0.1])[0]
        due = resolved.date() + timedelta(days=rng.randint(7, 90))
        lines.append(f"  - title: {_q(_sentence(rng, rng.randint(5, 10))[:-1])}")
        lines.append(f"    type: {rng.choice(['prevention', 'detection', 'mitigation', 'process'])}")
        lines.append(f"    owner: {rng.choice(PEOPLE + TEAMS)}")
        lines.append(f"    due: {due.isoformat()}")
        lines.append(f"    status: {status_ai}")
        if status_ai == "done":
            lines.append(f"    completed: {(due - timedelta(days=rng.randint(-10, 20))).isoformat()}")
        if rng.random() < 0.6:
            lines.append(f"    ticket: https://tracker.example.com/browse/OPS-{rng.randint(100, 99999)}")
        if rng.random() < 0.15:
            lines.append(f"    addresses: [{rng.choice(voc.categories)}]")
    lines.append("timeline:")
    for at, event, kind in _timeline(rng, started, detected, mitigated, resolved):
        lines.append(f"  - at: {_ts(rng, at)}")
        lines.append(f"    event: {_q(event)}")
        if kind:
            lines.append(f"    kind: {kind}")
    if earlier and rng.random() < 0.3:
        picks = sorted({rng.choice(earlier[-500:]) for _ in range(rng.randint(1, 3))})
        lines.append("related: [" + ", ".join(picks) + "]")
    lines.append("tags: [" + ", ".join(rng.sample(TAGS, rng.randint(0, 4))) + "]")
    if rng.random() < 0.1:
        lines.append(f"x-jira-epic: OPS-{rng.randint(1000, 9999)}")
    facts = {"services": services, "causes": causes, "started": started, "detected": detected,
             "resolved": resolved, "severity": severity, "status": status}
    return "\n".join(lines) + "\n", facts


def _wrap(text: str, width: int = 88) -> list[str]:
    out, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        out.append(line)
    return out


def _timeline(rng: random.Random, started: datetime, detected: datetime, mitigated: datetime,
              resolved: datetime) -> list[tuple[datetime, str, str | None]]:
    events = [(started - timedelta(minutes=rng.randint(5, 120)), "Change deployed", "deploy"),
              (started, "Impact began", "trigger"),
              (detected, "Alert fired and on-call paged", "detection")]
    n_more = rng.randint(1, 7)  # 4 to 10 events in all
    span = max(1, int((resolved - detected).total_seconds() // 60))
    for _ in range(n_more):
        at = detected + timedelta(minutes=rng.randint(0, span))
        kind = rng.choice(["escalation", "diagnosis", "communication", "data", "other", None])
        events.append((at, _sentence(rng, rng.randint(4, 9))[:-1], kind))
    events.append((resolved, "Resolved", "resolution"))
    events.sort(key=lambda e: e[0])
    return events


def _body(rng: random.Random, facts: dict) -> str:
    """A few kilobytes of varied Markdown: headings, paragraphs, lists, a table, code."""
    out = ["## Summary", "", _paragraph(rng, (3, 5)), "", "## Impact", "", _paragraph(rng)]
    out += ["", "| Metric | Before | During |", "| --- | ---: | ---: |"]
    for metric in rng.sample(["p99 latency (ms)", "error rate (%)", "precision", "recall", "requests/s", "AUC"], 3):
        out.append(f"| {metric} | {rng.randint(1, 500)} | {rng.randint(1, 5000)} |")
    out += ["", "## Timeline", ""]
    out += [f"- **{_sentence(rng, 2)[:-1]}**: {_sentence(rng)}" for _ in range(rng.randint(3, 6))]
    out += ["", "## Diagnosis", "", _paragraph(rng), "", _paragraph(rng, (2, 4))]
    if rng.random() < 0.5:
        out += ["", "```text", f"ERROR {facts['services'][0]} {_sentence(rng, 6)}", "```"]
    out += ["", "## Root causes", ""]
    out += [f"{i}. `{c}`: {_sentence(rng)}" for i, c in enumerate(facts["causes"], 1)]
    out += ["", "## What went well", ""]
    out += [f"- {_sentence(rng)}" for _ in range(rng.randint(1, 3))]
    out += ["", "## What went wrong", ""]
    out += [f"- {_sentence(rng)}" for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.3:
        out += ["", "!!! note \"Where we got lucky\"", "", "    " + _sentence(rng)]
    out += ["", "## Lessons learned", "", _paragraph(rng, (2, 5)), ""]
    return "\n".join(out)


def _mkdocs_yml(site_name: str) -> str:
    """The repository's site settings (theme, extensions, plugins), without its nav."""
    config = {}
    try:
        config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        pass
    keep = {k: config[k] for k in ("theme", "markdown_extensions") if k in config}
    out = {"site_name": site_name, "site_url": "https://postmortems.example.com/", **keep,
           "plugins": ["search", {"postmortems": {"incidents_dir": "incidents", "taxonomy": "schema/taxonomy.yml",
                                                  "timezone": "UTC", "recurrence_window_days": 365,
                                                  "related_limit": 5}}]}
    return yaml.safe_dump(out, sort_keys=False, allow_unicode=True)


def generate(n: int, out_dir: str | Path, seed: int = 0, taxonomy: str | Path | None = None) -> Path:
    """Write a knowledge base of `n` incidents into `out_dir` (created; existing incidents/ replaced)."""
    root = Path(out_dir)
    tax_path = Path(taxonomy) if taxonomy else REPO / "schema" / "taxonomy.yml"
    tax = yaml.safe_load(tax_path.read_text(encoding="utf-8"))
    rng = random.Random(seed)
    voc = _vocab(tax, rng)

    (root / "schema").mkdir(parents=True, exist_ok=True)
    (root / "docs").mkdir(exist_ok=True)
    shutil.copyfile(tax_path, root / "schema" / "taxonomy.yml")
    (root / "mkdocs.yml").write_text(_mkdocs_yml(f"Synthetic postmortems ({n})"), encoding="utf-8")
    (root / "docs" / "index.md").write_text(
        f"# Synthetic postmortems\n\n{n} generated incidents (seed {seed}) for benchmarks.\n", encoding="utf-8")
    incidents = root / "incidents"
    if incidents.exists():
        shutil.rmtree(incidents)

    epoch = datetime(FIRST_YEAR, 1, 1, tzinfo=timezone.utc)
    span_minutes = YEARS * 365 * 24 * 60
    starts = sorted(epoch + timedelta(minutes=rng.randrange(span_minutes)) for _ in range(n))
    per_year: dict[int, int] = {}
    earlier: list[str] = []
    for started in starts:
        year = started.year
        per_year[year] = per_year.get(year, 0) + 1
        inc_id = f"INC-{year}-{per_year[year]:03d}"
        front, facts = _front(rng, voc, inc_id, started, earlier)
        text = f"---\n{front}---\n\n{_body(rng, facts)}"
        folder = incidents / str(year)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{inc_id}.md").write_text(text, encoding="utf-8")
        earlier.append(inc_id)
    return root


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, help="how many incidents")
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    root = generate(args.n, args.out_dir, args.seed)
    print(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
