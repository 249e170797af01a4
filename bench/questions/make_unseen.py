"""Build bench/questions/unseen.jsonl: questions the sample FAQ never saw (see README.md here).

Run from the repository root: .venv/bin/python bench/questions/make_unseen.py
"""

from __future__ import annotations

import json
import random
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

DATA = Path("tests/faq_index/data")
OUT = Path("bench/questions/unseen.jsonl")

STATUS_EN = (
    "is the app down?|is the app down right now|app not working??|is online banking down|"
    "the website won't load, is it you or me|are you having an outage|"
    "is there a problem with the app today|when will the app be back|when will it be fixed|"
    "how long until the service is back|any update on the outage?|is the outage over|"
    "is everything working again|what's going on with the app|why can't i log in right now|"
    "is there a known issue with logins|status of the service please|are card payments down|"
    "is the problem fixed yet|still broken?|how long will this take|"
    "is it just me or is the bank down|service down again?|app keeps crashing is there an outage|"
    "can't access my account is the system down|what is the current status|"
    "any news about the incident|when is the next update|are you aware of the problem|"
    "is mobile banking working|are transfers working today|is the website under maintenance|"
    "is there scheduled maintenance tonight|what happened to the app this morning|"
    "your service is down again|is the outage affecting atms|are atms working|is bizum down|"
    "are payments delayed today|is the system back up|why is everything so slow today|"
    "app says error 500, known problem?|the app shows a blank screen, outage?|servers down?|"
    "is there an incident right now|when did the outage start|which services are affected|"
    "is it fixed now?|are you working on the problem|"
    "do you know when the service will be restored|is the problem on your side|"
    "down for everyone?|status update please|still down for me|nothing works in the app|"
    "online banking is not loading|is the card service restored|any eta on the fix|"
    "are direct debits affected by the outage|is login fixed"
).split("|")
STATUS_ES = (
    "¿está caída la app?|la app no funciona|¿hay una incidencia ahora mismo?|"
    "¿cuándo vuelve el servicio?|¿cuándo lo arreglan?|¿sigue la caída?|¿ya está arreglado?|"
    "la web no carga, ¿es cosa vuestra?|¿hay algún problema con la banca online?|"
    "¿qué pasa con la aplicación?|no puedo entrar en la app, ¿hay una avería?|"
    "¿cuánto falta para que funcione?|¿hay novedades sobre la incidencia?|"
    "¿cuándo es la próxima actualización?|¿funcionan los cajeros?|¿funciona bizum?|"
    "¿están caídos los pagos con tarjeta?|¿funcionan las transferencias hoy?|"
    "¿hay mantenimiento programado?|todo va lentísimo hoy, ¿pasa algo?|¿ya funciona todo?|"
    "¿está resuelto el problema?|sigue sin funcionar|¿es solo a mí o está caído?|"
    "¿qué servicios están afectados?|¿desde cuándo está caído?|¿estáis trabajando en ello?|"
    "¿sabéis cuándo se restablece el servicio?|estado del servicio por favor|"
    "la aplicación se cierra sola, ¿hay una caída?|¿está caído el servidor?|"
    "¿hay fallo general?|no me carga nada en la app|¿afecta a los recibos domiciliados?|"
    "¿se ha solucionado lo de las tarjetas?|¿cuánto va a durar esto?|"
    "¿hay alguna actualización?|¿volvéis a tener problemas?|"
    "¿está funcionando la banca móvil?|me da error al entrar, ¿es general?"
).split("|")
SMALL_EN = (
    "hi|hello there|good morning|hey|thanks|thank you so much|ok thanks|bye|goodbye|"
    "are you a bot?|who am i talking to|great, thanks for the help|you're useless|"
    "this is ridiculous|ok|cool|what can you do|help|can you help me|nice one"
).split("|")
SMALL_ES = (
    "hola|buenos días|buenas tardes|gracias|muchas gracias|adiós|hasta luego|¿eres un robot?|"
    "¿con quién hablo?|vale|perfecto, gracias|¿qué puedes hacer?|ayuda|¿me puedes ayudar?|"
    "esto es un desastre"
).split("|")


def fold(text: str) -> str:
    """Case- and space-folded text, to compare questions."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def load_yaml(path: Path) -> Any:
    """A YAML file's content."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def jsonl(path: Path) -> list[dict[str, Any]]:
    """The objects of a JSON-lines file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def main() -> None:
    """Write the file and print what it holds."""
    seen: set[str] = set()
    for entry in load_yaml(Path("data/faq/bank.yml"))["faqs"]:
        seen.update(fold(v) for v in (entry.get("question") or {}).values())
        for texts in (entry.get("paraphrases") or {}).values():
            seen.update(fold(v) for v in texts)
    out: list[dict[str, str]] = []

    def add(text: str, lang: str, kind: str) -> None:
        key = fold(text)
        if key and key not in seen:
            seen.add(key)
            out.append({"text": text, "lang": lang, "kind": kind})

    for name in ("bank-en", "bank-es", "banking77-dev"):
        for q in jsonl(DATA / name / "queries.jsonl"):
            add(q["text"], q["lang"], "faq" if q["expected"] else "out-of-scope")
    for entry in load_yaml(DATA / "banking77-dev" / "faq.yml")["faqs"]:
        for text in (entry.get("paraphrases") or {}).get("en", []):
            add(text, "en", "faq")
    for texts, lang, kind in (
        (STATUS_EN, "en", "status"),
        (STATUS_ES, "es", "status"),
        (SMALL_EN, "en", "smalltalk"),
        (SMALL_ES, "es", "smalltalk"),
    ):
        for text in texts:
            add(text, lang, kind)
    random.Random(17).shuffle(out)
    OUT.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in out), encoding="utf-8")
    print(len(out), Counter(q["kind"] for q in out), Counter(q["lang"] for q in out))


if __name__ == "__main__":
    main()
