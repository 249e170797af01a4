# ruff: noqa: E402, E501, SIM115 - a one-off data-making script, kept as it was run
"""Build bench/questions/unseen.jsonl: questions the sample FAQ never saw (see README.md here).

Run from the repository root: .venv/bin/python bench/questions/make_unseen.py
"""

import json
import random
import unicodedata

import yaml


def norm(t):
    return " ".join(unicodedata.normalize("NFKC", t).lower().split())


faq = yaml.safe_load(open("data/faq/bank.yml"))
seen = set()
for e in faq["faqs"]:
    for v in (e.get("question") or {}).values():
        seen.add(norm(v))
    for vs in (e.get("paraphrases") or {}).values():
        for v in vs:
            seen.add(norm(v))
out = []


def add(text, lang, kind, source):
    k = norm(text)
    if k in seen or not k:
        return
    seen.add(k)
    out.append({"text": text, "lang": lang, "kind": kind, "source": source})


for name in ("bank-en", "bank-es"):
    for line in open(f"tests/faq_index/data/{name}/queries.jsonl"):
        q = json.loads(line)
        add(q["text"], q["lang"], "faq" if q["expected"] else "out-of-scope", name)
for line in open("tests/faq_index/data/banking77-dev/queries.jsonl"):
    q = json.loads(line)
    add(
        q["text"],
        q["lang"],
        "faq" if q["expected"] else "out-of-scope",
        "banking77-dev (BANKING77, CLINC150 oos)",
    )
b77 = yaml.safe_load(open("tests/faq_index/data/banking77-dev/faq.yml"))
for e in b77["faqs"]:
    for v in (e.get("paraphrases") or {}).get("en", []):
        add(v, "en", "faq", "banking77-dev (BANKING77 training)")
status_en = """is the app down?|is the app down right now|app not working??|is online banking down|the website won't load, is it you or me|are you having an outage|is there a problem with the app today|when will the app be back|when will it be fixed|how long until the service is back|any update on the outage?|is the outage over|is everything working again|what's going on with the app|why can't i log in right now|is there a known issue with logins|status of the service please|are card payments down|is the problem fixed yet|still broken?|how long will this take|is it just me or is the bank down|service down again?|app keeps crashing is there an outage|can't access my account is the system down|what is the current status|any news about the incident|when is the next update|are you aware of the problem|is mobile banking working|are transfers working today|is the website under maintenance|is there scheduled maintenance tonight|what happened to the app this morning|your service is down again|is the outage affecting atms|are atms working|is bizum down|are payments delayed today|is the system back up|why is everything so slow today|app says error 500, known problem?|the app shows a blank screen, outage?|servers down?|is there an incident right now|when did the outage start|which services are affected|is it fixed now?|are you working on the problem|do you know when the service will be restored|is the problem on your side|down for everyone?|status update please|still down for me|nothing works in the app|online banking is not loading|is the card service restored|any eta on the fix|are direct debits affected by the outage|is login fixed""".split(
    "|"
)
status_es = """¿está caída la app?|la app no funciona|¿hay una incidencia ahora mismo?|¿cuándo vuelve el servicio?|¿cuándo lo arreglan?|¿sigue la caída?|¿ya está arreglado?|la web no carga, ¿es cosa vuestra?|¿hay algún problema con la banca online?|¿qué pasa con la aplicación?|no puedo entrar en la app, ¿hay una avería?|¿cuánto falta para que funcione?|¿hay novedades sobre la incidencia?|¿cuándo es la próxima actualización?|¿funcionan los cajeros?|¿funciona bizum?|¿están caídos los pagos con tarjeta?|¿funcionan las transferencias hoy?|¿hay mantenimiento programado?|todo va lentísimo hoy, ¿pasa algo?|¿ya funciona todo?|¿está resuelto el problema?|sigue sin funcionar|¿es solo a mí o está caído?|¿qué servicios están afectados?|¿desde cuándo está caído?|¿estáis trabajando en ello?|¿sabéis cuándo se restablece el servicio?|estado del servicio por favor|la aplicación se cierra sola, ¿hay una caída?|¿está caído el servidor?|¿hay fallo general?|no me carga nada en la app|¿afecta a los recibos domiciliados?|¿se ha solucionado lo de las tarjetas?|¿cuánto va a durar esto?|¿hay alguna actualización?|¿volvéis a tener problemas?|¿está funcionando la banca móvil?|me da error al entrar, ¿es general?""".split(
    "|"
)
small_en = "hi|hello there|good morning|hey|thanks|thank you so much|ok thanks|bye|goodbye|are you a bot?|who am i talking to|great, thanks for the help|you're useless|this is ridiculous|ok|cool|what can you do|help|can you help me|nice one".split(
    "|"
)
small_es = "hola|buenos días|buenas tardes|gracias|muchas gracias|adiós|hasta luego|¿eres un robot?|¿con quién hablo?|vale|perfecto, gracias|¿qué puedes hacer?|ayuda|¿me puedes ayudar?|esto es un desastre".split(
    "|"
)
for t in status_en:
    add(t, "en", "status", "written for this bench")
for t in status_es:
    add(t, "es", "status", "written for this bench")
for t in small_en:
    add(t, "en", "smalltalk", "written for this bench")
for t in small_es:
    add(t, "es", "smalltalk", "written for this bench")
random.Random(17).shuffle(out)
with open("bench/questions/unseen.jsonl", "w") as f:
    for q in out:
        f.write(json.dumps({k: q[k] for k in ("text", "lang", "kind")}, ensure_ascii=False) + "\n")
from collections import Counter

print(len(out), Counter(q["kind"] for q in out), Counter(q["lang"] for q in out))
