"""`make eval`: measure the NLU on data it was not trained on.

- the held-out set we wrote and keep out of training (tests/data/nlu_holdout.yml):
  intent accuracy and macro-F1, FAQ topics counted as separate labels;
- CLINC150's out-of-scope test sentences: the share wrongly taken as a service
  request or a city FAQ;
- real Bloomington 311 descriptions whose service matches a Riverton one: the
  share routed to the right service;
- a public civic assistant's training phrases for the intents we share with it.

Prints a summary and writes reports/eval.json.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml

from bot.process.procs import PROJECT_ROOT

SHARED_EVAL = PROJECT_ROOT.parent / "shared" / "eval"
HOLDOUT = PROJECT_ROOT / "tests" / "data" / "nlu_holdout.yml"
LABELS = PROJECT_ROOT / "tests" / "data" / "eval_labels.yml"
REPORT = PROJECT_ROOT / "reports" / "eval.json"

REQUEST_INTENT_PREFIX = "report_"


def label_of(parse: Dict[str, Any]) -> str:
    """The predicted label: the intent, or faq/<topic> for a city question."""
    intent = (parse.get("intent") or {}).get("name") or "nlu_fallback"
    if intent == "faq":
        selected = ((parse.get("response_selector") or {}).get("faq") or {}).get("response") or {}
        return selected.get("intent_response_key") or "faq"
    return intent


def is_taken_in_scope(label: str) -> bool:
    """Whether a prediction would start a report or answer a city FAQ."""
    return label.startswith(REQUEST_INTENT_PREFIX) or label.startswith("faq")


def accuracy_and_macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> Tuple[float, float]:
    """Accuracy and macro-averaged F1 over the gold labels."""
    from sklearn.metrics import f1_score

    labels = sorted(set(gold))
    accuracy = sum(g == p for g, p in zip(gold, predicted, strict=True)) / max(len(gold), 1)
    macro = f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)
    return accuracy, float(macro)


def load_holdout(path: Path = HOLDOUT) -> List[Tuple[str, str]]:
    """(text, label) pairs of the held-out set; FAQ examples keep their topic."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    pairs = []
    for example in data.intent_examples:
        label = example.get("intent_response_key") or example.get("intent")
        pairs.append((example.get("text"), label))
    return pairs


class Parser:
    """A loaded model that turns sentences into predictions."""

    def __init__(self, model_path: Path) -> None:
        import logging

        from rasa.core.agent import Agent
        from rasa.utils.log_utils import configure_structlog

        configure_structlog(logging.WARNING)  # not a debug line per parsed sentence
        self.agent = Agent.load(str(model_path))

    async def labels(self, texts: Sequence[str]) -> List[str]:
        return [label_of(await self.agent.parse_message(text)) for text in texts]


def _bloomington_rows() -> Dict[str, Dict[str, str]]:
    with (SHARED_EVAL / "open311" / "bloomington_real_descriptions.csv").open(newline="") as handle:
        return {row["service_request_id"]: row for row in csv.DictReader(handle)}


async def evaluate(model_path: Path) -> Dict[str, Any]:
    """Run every measurement; external sets are skipped (and said so) when absent."""
    parser = Parser(model_path)
    labels = yaml.safe_load(LABELS.read_text())
    results: Dict[str, Any] = {"model": str(model_path)}

    holdout = load_holdout()
    predicted = await parser.labels([t for t, _ in holdout])
    gold = [g for _, g in holdout]
    accuracy, macro = accuracy_and_macro_f1(gold, predicted)
    intent_gold = [g.split("/")[0] for g in gold]
    intent_pred = [p.split("/")[0] for p in predicted]
    intent_accuracy, intent_macro = accuracy_and_macro_f1(intent_gold, intent_pred)
    errors = Counter(f"{g} -> {p}" for g, p in zip(gold, predicted, strict=True) if g != p)
    results["holdout"] = {
        "examples": len(gold),
        "accuracy": round(accuracy, 4),
        "macro_f1": round(macro, 4),
        "intent_accuracy": round(intent_accuracy, 4),
        "intent_macro_f1": round(intent_macro, 4),
        "top_confusions": errors.most_common(10),
    }

    clinc = SHARED_EVAL / "clinc150" / "data_full.json"
    if clinc.exists():
        oos = [text for text, _ in json.loads(clinc.read_text())["oos_test"]]
        oos_labels = await parser.labels(oos)
        wrong = [lab for lab in oos_labels if is_taken_in_scope(lab)]
        results["clinc_oos_test"] = {
            "examples": len(oos),
            "taken_as_request_or_faq": round(len(wrong) / len(oos), 4),
            "taken_as_request": round(sum(lab.startswith(REQUEST_INTENT_PREFIX) for lab in oos_labels) / len(oos), 4),
            "taken_as_faq": round(sum(lab.startswith("faq") for lab in oos_labels) / len(oos), 4),
            "most_common_wrong": Counter(wrong).most_common(5),
        }
    else:
        results["clinc_oos_test"] = {"skipped": f"{clinc} not found"}

    if (SHARED_EVAL / "open311").exists():
        rows = _bloomington_rows()
        expected = labels["bloomington"]
        texts = [rows[request_id]["description"] for request_id in expected]
        chosen = await parser.labels(texts)
        services = [
            lab[len(REQUEST_INTENT_PREFIX) :].upper() if lab.startswith(REQUEST_INTENT_PREFIX) else None
            for lab in chosen
        ]
        details = [
            {"service_request_id": rid, "expected": code, "chosen": got}
            for (rid, code), got in zip(expected.items(), services, strict=True)
        ]
        results["bloomington"] = {
            "examples": len(details),
            "service_accuracy": round(sum(d["expected"] == d["chosen"] for d in details) / len(details), 4),
            "details": details,
        }
    civic_file = SHARED_EVAL / "civic_nlu" / "goodbye_graffiti_dfcx_training_phrases.json"
    if civic_file.exists():
        civic = json.loads(civic_file.read_text())["intents"]
        pairs = [(text, ours) for theirs, ours in labels["civic_nlu"].items() for text in civic[theirs]]
        civic_pred = await parser.labels([t for t, _ in pairs])
        civic_gold = [g for _, g in pairs]
        civic_acc, civic_macro = accuracy_and_macro_f1(civic_gold, [p.split("/")[0] for p in civic_pred])
        results["civic_nlu"] = {
            "examples": len(pairs),
            "accuracy": round(civic_acc, 4),
            "macro_f1": round(civic_macro, 4),
        }
    return results


def summary_lines(results: Dict[str, Any]) -> List[str]:
    holdout = results["holdout"]
    lines = [
        f"held-out ({holdout['examples']} sentences): accuracy {holdout['accuracy']:.1%}, "
        f"macro-F1 {holdout['macro_f1']:.3f} (intents only: {holdout['intent_accuracy']:.1%}, "
        f"{holdout['intent_macro_f1']:.3f})",
    ]
    oos = results.get("clinc_oos_test", {})
    if "examples" in oos:
        lines.append(
            f"CLINC150 oos_test ({oos['examples']}): {oos['taken_as_request_or_faq']:.1%} wrongly taken as a "
            f"service request or FAQ ({oos['taken_as_request']:.1%} request, {oos['taken_as_faq']:.1%} FAQ)"
        )
    bloomington = results.get("bloomington")
    if bloomington:
        lines.append(
            f"Bloomington descriptions ({bloomington['examples']}): right service {bloomington['service_accuracy']:.1%}"
        )
    civic = results.get("civic_nlu")
    if civic:
        lines.append(
            f"civic assistant phrases ({civic['examples']}): accuracy {civic['accuracy']:.1%}, "
            f"macro-F1 {civic['macro_f1']:.3f}"
        )
    return lines


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.eval", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(PROJECT_ROOT / "models" / "citybot.tar.gz"))
    parser.add_argument("--out", default=str(REPORT))
    args = parser.parse_args(argv)
    results = asyncio.run(evaluate(Path(args.model)))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    for line in summary_lines(results):
        print(line)
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
