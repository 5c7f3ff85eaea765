"""Write schema/incident.schema.json.

The schema is kept as Python here because it is easier to review than hand-written JSON
with its many titles and descriptions; the JSON file is the artefact that users, editors
and the validator read. Run `python tools/make_schema.py` after editing, and commit both.
"""
import json
from pathlib import Path

TIMESTAMP = r"^\d{4}-\d{2}-\d{2}([Tt ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)?)?$"
DATE = r"^\d{4}-\d{2}-\d{2}$"


def text(title, description, **extra):
    return {"type": "string", "title": title, "description": description, **extra}


def text_list(title, description, **items):
    return {"type": "array", "title": title, "description": description,
            "items": {"type": "string", **items}}


schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "incident.schema.json",
    "title": "Postmortem front matter",
    "description": "The YAML front matter of one incident postmortem. Controlled vocabularies "
                   "(severities, detection sources, dimensions, root-cause categories) live in "
                   "the taxonomy file and are checked by `pmkb validate`, not by this schema.",
    "type": "object",
    "required": ["id", "title", "status", "severity", "started"],
    "additionalProperties": False,
    "patternProperties": {"^x-": {"title": "Extension", "description": "Kept and ignored: the place for an organisation's own fields."}},
    "properties": {
        "id": text("Incident id", "Unique id such as INC-2025-014: upper-case letters and digits in dash-separated parts. The page address uses it lower-cased.",
                   pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$", maxLength=40),
        "title": text("Title", "A short, specific, blameless headline of what happened.", minLength=1, maxLength=200),
        "status": {"title": "Write-up status", "description": "State of the postmortem write-up (not of the incident): draft, review or final.",
                   "enum": ["draft", "review", "final"]},
        "severity": text("Severity", "A severity id from the taxonomy, e.g. SEV2."),
        "summary": text("Summary", "One paragraph: what happened, when, and who was affected."),
        "started": {"$ref": "#/$defs/timestamp", "title": "Impact started", "description": "When impact began."},
        "detected": {"$ref": "#/$defs/timestamp", "title": "Detected", "description": "When the organisation knew."},
        "mitigated": {"$ref": "#/$defs/timestamp", "title": "Mitigated", "description": "When impact stopped or was contained (rollback, failover)."},
        "resolved": {"$ref": "#/$defs/timestamp", "title": "Resolved", "description": "When it was fully resolved."},
        "detection": text("Detection source", "How it was discovered: a detection-source id from the taxonomy."),
        "services": text_list("Services", "Affected services or systems."),
        "team": text("Team", "The owning team."),
        "authors": text_list("Authors", "Who wrote the postmortem."),
        "impact": text("Impact", "Who and what was affected, in numbers where possible."),
        "users_affected": {"type": "integer", "minimum": 0, "title": "Users affected", "description": "Number of users affected (an estimate is fine)."},
        "models": {"type": "array", "title": "Models", "description": "ML models involved, with the version that was serving.",
                   "items": {"type": "object", "title": "Model", "description": "A model and the version that was serving.",
                             "required": ["name", "version"], "additionalProperties": False,
                             "properties": {"name": text("Model name", "Name of the model."),
                                            "version": text("Model version", "Version that was serving, as text: quote numbers such as '3.10'.")}}},
        "datasets": {"type": "array", "title": "Datasets", "description": "Data sets, tables, features or pipelines involved (lineage).",
                     "items": {"type": "object", "title": "Dataset", "description": "A data set, table, feature group or pipeline.",
                               "required": ["name"], "additionalProperties": False,
                               "properties": {"name": text("Dataset name", "Name of the data set, table, feature or pipeline."),
                                              "version": text("Dataset version", "Version, snapshot or partition, as text.")}}},
        "dimensions": {"type": "object", "title": "Failure dimensions", "description": "For each failure dimension of the taxonomy (serving, model, data), how much it contributed and the evidence.",
                       "additionalProperties": {"type": "object", "title": "Dimension analysis", "description": "Contribution of one failure dimension, with evidence.",
                                                "required": ["contribution"], "additionalProperties": False,
                                                "properties": {"contribution": {"title": "Contribution", "description": "How much this dimension contributed: none, low, medium or high.",
                                                                                "enum": ["none", "low", "medium", "high"]},
                                                               "evidence": text_list("Evidence", "Observations that support the assessment: graphs, queries, logs.")}}},
        "root_causes": {"type": "array", "title": "Root causes", "description": "Every contributing cause, each with a taxonomy category `layer/name`. At least one is required when final.",
                        "items": {"type": "object", "title": "Root cause", "description": "One contributing cause.",
                                  "required": ["category", "description"], "additionalProperties": False,
                                  "properties": {"category": text("Category", "A taxonomy category id `layer/name`, e.g. data/schema-change."),
                                                 "description": text("Description", "What exactly went wrong at this layer, and how the system allowed it.")}}},
        "trigger": text("Trigger", "What set the incident off."),
        "action_items": {"type": "array", "title": "Action items", "description": "Corrective and preventive actions.",
                         "items": {"type": "object", "title": "Action item", "description": "One corrective or preventive action.",
                                   "required": ["title", "type", "owner", "due", "status"], "additionalProperties": False,
                                   "properties": {
                                       "title": text("Action", "What will be done."),
                                       "type": {"title": "Type", "description": "prevention, detection, mitigation or process.", "enum": ["prevention", "detection", "mitigation", "process"]},
                                       "owner": text("Owner", "The person or team accountable."),
                                       "due": {"$ref": "#/$defs/date", "title": "Due date", "description": "When it is due (YYYY-MM-DD)."},
                                       "status": {"title": "Status", "description": "open, in-progress, done or wont-do.", "enum": ["open", "in-progress", "done", "wont-do"]},
                                       "completed": {"$ref": "#/$defs/date", "title": "Completed", "description": "When it was done (YYYY-MM-DD); expected when status is done."},
                                       "ticket": text("Ticket", "Link to the tracking ticket.", pattern=r"^https?://\S+$"),
                                       "addresses": text_list("Addresses", "Root-cause category ids this item addresses; by default the incident's own root-cause categories."),
                                   }}},
        "timeline": {"type": "array", "title": "Timeline", "description": "What happened when.",
                     "items": {"type": "object", "title": "Timeline event", "description": "One event.",
                               "required": ["at", "event"], "additionalProperties": False,
                               "properties": {"at": {"$ref": "#/$defs/timestamp", "title": "At", "description": "When it happened."},
                                              "event": text("Event", "What happened."),
                                              "kind": {"title": "Kind", "description": "The kind of event.",
                                                       "enum": ["trigger", "detection", "escalation", "diagnosis", "mitigation", "resolution", "deploy", "data", "communication", "other"]}}}},
        "related": text_list("Related incidents", "Ids of related incidents; each must exist."),
        "links": {"type": "array", "title": "Links", "description": "Where else the incident lives: the chat channel, the tickets, the original document, the status page.",
                  "items": {"type": "object", "title": "Link", "description": "One place, with the words to show for it.",
                            "required": ["title", "url"], "additionalProperties": False,
                            "properties": {"title": text("Link title", "What the link leads to, e.g. 'Incident channel #inc-2025-014'.", minLength=1, maxLength=200),
                                           "url": text("URL", "The address, http:// or https:// only.", pattern=r"^https?://[^\s<>\"]+$")}}},
        "tags": text_list("Tags", "Free tags, lower-case (no capital letters).", pattern=r"^[^A-Z]+$"),
    },
    "$defs": {
        "timestamp": {"type": "string", "pattern": TIMESTAMP,
                      "description": "YYYY-MM-DD HH:MM (or with T), optional :SS, fraction and offset. Without an offset it is read in the knowledge base's time zone."},
        "date": {"type": "string", "pattern": DATE, "description": "A date, YYYY-MM-DD."},
    },
}

out = Path(__file__).resolve().parent.parent / "schema" / "incident.schema.json"
out.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
print(out)
