"""`make eval`: measure the NLU on data it was not trained on.

- the held-out sets we wrote and keep out of training, one per language
  (tests/data/nlu_holdout.yml, tests/data/nlu_holdout_es.yml): intent accuracy
  and macro-F1, FAQ topics counted as separate labels, and the share of
  emergencies recognised as such, with the ones missed;
- language identification on short messages (tests/data/language_id.yml): the
  language a first message is answered in, the detector alone for comparison,
  and whether messages that say nothing of a language leave a resident's alone;
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import yaml

from bot.i18n.choice import Turn, decide
from bot.i18n.detection import detect
from bot.i18n.languages import city_languages
from bot.process.procs import PROJECT_ROOT

SHARED_EVAL = PROJECT_ROOT.parent / "shared" / "eval"
TEST_DATA = PROJECT_ROOT / "tests" / "data"
HOLDOUT = TEST_DATA / "nlu_holdout.yml"
HOLDOUT_ES = TEST_DATA / "nlu_holdout_es.yml"
LANGUAGE_ID = TEST_DATA / "language_id.yml"
# Written afterwards by someone who saw neither language_id.yml nor the word lists the
# language decision uses (those were extended after language_id.yml's misses were seen).
LANGUAGE_ID_UNSEEN = TEST_DATA / "language_id_unseen.yml"
LANGUAGE_ID_SETS = (("language_id", LANGUAGE_ID), ("language_id_unseen", LANGUAGE_ID_UNSEEN))
LABELS = TEST_DATA / "eval_labels.yml"
REPORT = PROJECT_ROOT / "reports" / "eval.json"

REQUEST_INTENT_PREFIX = "report_"
EMERGENCY = "emergency"
# The language_id.yml label of messages that say nothing of a language.
NEUTRAL = "neutral"
# Missed emergencies printed per held-out set (all of them are in the report).
MISSES_SHOWN = 10


@dataclass(frozen=True)
class HoldoutSet:
    """A held-out file and the key of reports/eval.json its figures go under."""

    key: str
    language: str
    path: Path


# "holdout" keeps its name: bench/report.py and earlier reports read the English figures there.
HOLDOUTS: Tuple[HoldoutSet, ...] = (
    HoldoutSet("holdout", "en", HOLDOUT),
    HoldoutSet("holdout_es", "es", HOLDOUT_ES),
)


def label_of(parse: Dict[str, Any]) -> str:
    """The predicted label: the intent, or faq/<topic> for a city question."""
    intent = (parse.get("intent") or {}).get("name") or "nlu_fallback"
    if intent == "faq":
        selected = ((parse.get("response_selector") or {}).get("faq") or {}).get("response") or {}
        return selected.get("intent_response_key") or "faq"
    return intent


HANDOFF_INTENT = "request_human"
# CLINC's splits (report key, split, name shown): `oos_val`, and the `val` sentences of the intents a
# city cannot help with, are for tuning (bot/rasa_ext/negatives.py, config.yml's thresholds);
# `oos_test` only measures.
CLINC_SPLITS = (
    ("clinc_oos_val", "oos_val", "oos_val"),
    ("clinc_val_not_city", "val", "val of intents not about a city"),
    ("clinc_oos_test", "oos_test", "oos_test"),
)


def is_taken_in_scope(label: str) -> bool:
    """Whether a prediction would start a report or answer a city FAQ."""
    return label.startswith(REQUEST_INTENT_PREFIX) or label.startswith("faq")


def is_acted_on(label: str) -> bool:
    """Whether a prediction would start something: a report, a city answer, or a handoff to staff."""
    return is_taken_in_scope(label) or label == HANDOFF_INTENT


def accuracy_and_macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> Tuple[float, float]:
    """Accuracy and macro-averaged F1 over the gold labels."""
    from sklearn.metrics import f1_score

    labels = sorted(set(gold))
    accuracy = sum(g == p for g, p in zip(gold, predicted, strict=True)) / max(len(gold), 1)
    macro = f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)
    return accuracy, float(macro)


def share(hits: int, total: int) -> Optional[float]:
    """hits / total rounded for the report, or None when there is nothing to count."""
    return round(hits / total, 4) if total else None


def load_holdout(path: Path = HOLDOUT) -> List[Tuple[str, str]]:
    """(text, label) pairs of a held-out set; FAQ examples keep their topic."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    pairs = []
    for example in data.intent_examples:
        label = example.get("intent_response_key") or example.get("intent")
        pairs.append((example.get("text"), label))
    return pairs


def holdout_figures(texts: Sequence[str], gold: Sequence[str], predicted: Sequence[str]) -> Dict[str, Any]:
    """A held-out set's scores: every label, intents only (FAQ topics merged), and emergencies."""
    accuracy, macro = accuracy_and_macro_f1(gold, predicted)
    intent_accuracy, intent_macro = accuracy_and_macro_f1(
        [g.split("/")[0] for g in gold], [p.split("/")[0] for p in predicted]
    )
    errors = Counter(f"{g} -> {p}" for g, p in zip(gold, predicted, strict=True) if g != p)
    return {
        "examples": len(gold),
        "accuracy": round(accuracy, 4),
        "macro_f1": round(macro, 4),
        "intent_accuracy": round(intent_accuracy, 4),
        "intent_macro_f1": round(intent_macro, 4),
        "top_confusions": errors.most_common(10),
        **emergency_figures(texts, gold, predicted),
    }


def emergency_figures(texts: Sequence[str], gold: Sequence[str], predicted: Sequence[str]) -> Dict[str, Any]:
    """The share of emergencies predicted as one (a miss sends someone in danger to a form) and the misses."""
    emergencies = [(t, p) for t, g, p in zip(texts, gold, predicted, strict=True) if g == EMERGENCY]
    missed = [{"text": text, "predicted": label} for text, label in emergencies if label != EMERGENCY]
    return {
        "emergency_examples": len(emergencies),
        "emergency_recall": share(len(emergencies) - len(missed), len(emergencies)),
        "emergency_missed": missed,
    }


def load_language_id(path: Path = LANGUAGE_ID) -> Dict[str, List[str]]:
    """The short messages per label (each city language, and `neutral`)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    known = {*city_languages(), NEUTRAL}
    for label, texts in raw.items():
        if label not in known:
            raise ValueError(f"{path}: unknown label {label!r} (expected one of {sorted(known)})")
        if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
            raise ValueError(f"{path}: {label} must be a list of quoted strings")
    return raw


def first_message_language(text: str) -> str:
    """The language a resident's first message is answered in, with no channel hint."""
    return decide(Turn(text))


def detected_language(text: str) -> Optional[str]:
    """The detector's answer alone, without the rules around it."""
    found = detect(text)
    return found.language if found else None


def keeps_language(text: str, remembered: str) -> bool:
    """Whether a resident who reads `remembered` still does after sending `text`."""
    return decide(Turn(text, remembered=remembered)) == remembered


def accuracy_of(
    choose: Callable[[str], Optional[str]], texts: Sequence[str], language: str
) -> Tuple[Optional[float], List[str]]:
    """The share of `texts` that `choose` puts in `language`, and the others."""
    wrong = [text for text in texts if choose(text) != language]
    return share(len(texts) - len(wrong), len(texts)), wrong


def language_id_figures(items: Dict[str, List[str]]) -> Dict[str, Any]:
    """Per city language: first messages answered in it, and the detector alone; neutral ones kept."""
    figures: Dict[str, Any] = {}
    for language in city_languages():
        texts = items.get(language) or []
        decided, wrong = accuracy_of(first_message_language, texts, language)
        detected, _ = accuracy_of(detected_language, texts, language)
        figures[language] = {
            "examples": len(texts),
            "decide_accuracy": decided,
            "detect_accuracy": detected,
            "decided_wrong": wrong,
        }
    neutral = items.get(NEUTRAL) or []
    flipped = {lang: [text for text in neutral if not keeps_language(text, lang)] for lang in city_languages()}
    flipped_somewhere = {text for texts in flipped.values() for text in texts}
    figures[NEUTRAL] = {
        "examples": len(neutral),
        "kept": {lang: share(len(neutral) - len(texts), len(neutral)) for lang, texts in flipped.items()},
        "kept_every_language": share(sum(text not in flipped_somewhere for text in neutral), len(neutral)),
        "flipped": flipped,
    }
    return figures


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


async def score_holdout(parser: Parser, holdout: HoldoutSet) -> Dict[str, Any]:
    """One held-out set's figures; a missing file is skipped (and said so)."""
    if not holdout.path.exists():
        return {"language": holdout.language, "skipped": f"{holdout.path} not found"}
    pairs = load_holdout(holdout.path)
    texts = [text for text, _ in pairs]
    predicted = await parser.labels(texts)
    figures = holdout_figures(texts, [g for _, g in pairs], predicted)
    # Each sentence as a resident's first message: is it answered in its own language?
    in_its_language = sum(first_message_language(text) == holdout.language for text in texts)
    return {"language": holdout.language, **figures, "first_message_language": share(in_its_language, len(texts))}


def clinc_oos_texts(path: Path, split: str = "oos_test") -> List[str]:
    """A split's sentences; of the in-scope splits, only those of intents a city cannot help with."""
    from bot.rasa_ext.negatives import CITY_LIKE_INTENTS

    pairs = json.loads(path.read_text())[split]
    if split.startswith("oos_"):
        return [text for text, _ in pairs]
    return [text for text, label in pairs if label not in CITY_LIKE_INTENTS]


async def clinc_figures(parser: Parser, oos: Sequence[str]) -> Dict[str, Any]:
    oos_labels = await parser.labels(oos)
    wrong = [lab for lab in oos_labels if is_taken_in_scope(lab)]
    return {
        "examples": len(oos),
        "taken_as_request_or_faq": round(len(wrong) / len(oos), 4),
        "taken_as_request": round(sum(lab.startswith(REQUEST_INTENT_PREFIX) for lab in oos_labels) / len(oos), 4),
        "taken_as_faq": round(sum(lab.startswith("faq") for lab in oos_labels) / len(oos), 4),
        "handed_to_staff": round(sum(lab == HANDOFF_INTENT for lab in oos_labels) / len(oos), 4),
        "acted_on": round(sum(is_acted_on(lab) for lab in oos_labels) / len(oos), 4),
        "most_common_wrong": Counter(wrong).most_common(5),
    }


def bloomington_texts(expected: Dict[str, str]) -> List[str]:
    """The real descriptions of the requests `expected` names."""
    with (SHARED_EVAL / "open311" / "bloomington_real_descriptions.csv").open(newline="") as handle:
        rows = {row["service_request_id"]: row for row in csv.DictReader(handle)}
    return [rows[request_id]["description"] for request_id in expected]


async def bloomington_figures(parser: Parser, expected: Dict[str, str], texts: Sequence[str]) -> Dict[str, Any]:
    chosen = await parser.labels(texts)
    services = [
        lab[len(REQUEST_INTENT_PREFIX) :].upper() if lab.startswith(REQUEST_INTENT_PREFIX) else None for lab in chosen
    ]
    details = [
        {"service_request_id": rid, "expected": code, "chosen": got}
        for (rid, code), got in zip(expected.items(), services, strict=True)
    ]
    return {
        "examples": len(details),
        "service_accuracy": round(sum(d["expected"] == d["chosen"] for d in details) / len(details), 4),
        "details": details,
    }


def civic_pairs(path: Path, ours_of_theirs: Dict[str, str]) -> List[Tuple[str, str]]:
    """(phrase, our label) for the civic assistant's intents that mean the same as ours."""
    civic = json.loads(path.read_text())["intents"]
    return [(text, ours) for theirs, ours in ours_of_theirs.items() for text in civic[theirs]]


async def civic_figures(parser: Parser, pairs: Sequence[Tuple[str, str]]) -> Dict[str, Any]:
    civic_pred = await parser.labels([t for t, _ in pairs])
    civic_acc, civic_macro = accuracy_and_macro_f1([g for _, g in pairs], [p.split("/")[0] for p in civic_pred])
    return {"examples": len(pairs), "accuracy": round(civic_acc, 4), "macro_f1": round(civic_macro, 4)}


async def evaluate(model_path: Path, holdouts: Sequence[HoldoutSet] = HOLDOUTS) -> Dict[str, Any]:
    """Run every measurement; external sets are skipped (and said so) when absent."""
    parser = Parser(model_path)
    labels = yaml.safe_load(LABELS.read_text())
    results: Dict[str, Any] = {"model": str(model_path)}
    for holdout in holdouts:
        results[holdout.key] = await score_holdout(parser, holdout)
    for key, path in LANGUAGE_ID_SETS:
        results[key] = language_id_figures(load_language_id(path))
    clinc = SHARED_EVAL / "clinc150" / "data_full.json"
    for key, split, _name in CLINC_SPLITS:
        if clinc.exists():
            results[key] = await clinc_figures(parser, clinc_oos_texts(clinc, split))
        else:
            results[key] = {"skipped": f"{clinc} not found"}
    if (SHARED_EVAL / "open311").exists():
        expected = labels["bloomington"]
        results["bloomington"] = await bloomington_figures(parser, expected, bloomington_texts(expected))
    civic_file = SHARED_EVAL / "civic_nlu" / "goodbye_graffiti_dfcx_training_phrases.json"
    if civic_file.exists():
        results["civic_nlu"] = await civic_figures(parser, civic_pairs(civic_file, labels["civic_nlu"]))
    return results


def holdout_lines(holdout: Dict[str, Any]) -> List[str]:
    """A held-out set's line, then the emergencies it missed (the misses matter most)."""
    if "skipped" in holdout:
        return [f"held-out {holdout['language']}: skipped, {holdout['skipped']}"]
    line = (
        f"held-out {holdout['language']} ({holdout['examples']} sentences): accuracy {holdout['accuracy']:.1%}, "
        f"macro-F1 {holdout['macro_f1']:.3f} (intents only: {holdout['intent_accuracy']:.1%}, "
        f"{holdout['intent_macro_f1']:.3f})"
    )
    if holdout.get("first_message_language") is not None:
        line += f"; answered in its language as a first message {holdout['first_message_language']:.1%}"
    if holdout["emergency_examples"]:
        line += (
            f"; emergencies recognised {holdout['emergency_recall']:.1%} "
            f"({len(holdout['emergency_missed'])} of {holdout['emergency_examples']} missed)"
        )
    return [line, *missed_emergency_lines(holdout["emergency_missed"])]


def missed_emergency_lines(missed: Sequence[Dict[str, str]]) -> List[str]:
    """The first missed emergencies, one a line, then how many more the report lists."""
    lines = [f"  missed emergency: {m['text']!r} -> {m['predicted']}" for m in missed[:MISSES_SHOWN]]
    if len(missed) > MISSES_SHOWN:
        lines.append(f"  and {len(missed) - MISSES_SHOWN} more missed emergencies in the report")
    return lines


def language_id_lines(figures: Dict[str, Any], name: str = "language_id") -> List[str]:
    languages = [lang for lang in figures if lang != NEUTRAL]
    first = ", ".join(
        f"{lang} {figures[lang]['decide_accuracy']:.1%} of {figures[lang]['examples']}"
        for lang in languages
        if figures[lang]["examples"]
    )
    alone = ", ".join(
        f"{lang} {figures[lang]['detect_accuracy']:.1%}" for lang in languages if figures[lang]["examples"]
    )
    lines = [f"language of a first short message ({name}): {first} (detector alone: {alone})"]
    neutral = figures[NEUTRAL]
    if neutral["examples"]:
        kept = ", ".join(f"{lang} {value:.1%}" for lang, value in neutral["kept"].items())
        lines.append(f"neutral messages ({neutral['examples']}) keeping a resident's language: {kept}")
    return lines


def summary_lines(results: Dict[str, Any]) -> List[str]:
    lines = [line for h in HOLDOUTS if h.key in results for line in holdout_lines(results[h.key])]
    for key, _path in LANGUAGE_ID_SETS:
        if key in results:
            lines.extend(language_id_lines(results[key], key))
    for key, _split, name in CLINC_SPLITS:
        oos = results.get(key, {})
        if "examples" in oos:
            lines.append(
                f"CLINC150 {name} ({oos['examples']}): {oos['taken_as_request_or_faq']:.1%} wrongly taken as a "
                f"service request or FAQ ({oos['taken_as_request']:.1%} request, {oos['taken_as_faq']:.1%} FAQ); "
                f"{oos['acted_on']:.1%} with handoffs to staff ({oos['handed_to_staff']:.1%})"
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
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    for line in summary_lines(results):
        print(line)
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
