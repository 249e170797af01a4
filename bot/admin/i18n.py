"""The admin's UI strings in English and Spanish."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

UI_LANGS = ("en", "es")
UI_COOKIE = "faro_admin_ui"

STRINGS: dict[str, dict[str, str]] = {
    "title": {"en": "Faro admin", "es": "Administración de Faro"},
    "off": {
        "en": "The admin is off: set FARO_ADMIN_PASSWORD (or FARO_ADMIN_TOKEN) to turn it on.",
        "es": "La administración está desactivada: defina FARO_ADMIN_PASSWORD "
        "(o FARO_ADMIN_TOKEN) para activarla.",
    },
    "login": {"en": "Sign in", "es": "Entrar"},
    "logout": {"en": "Sign out", "es": "Salir"},
    "name": {"en": "Your name (for the audit trail)", "es": "Su nombre (para el registro)"},
    "password": {"en": "Password or token", "es": "Contraseña o token"},
    "bad_login": {
        "en": "Wrong password or token, or no name given.",
        "es": "Contraseña o token incorrectos, o falta el nombre.",
    },
    "csrf": {
        "en": "This form expired or did not come from this site. Nothing was changed.",
        "es": "Este formulario caducó o no viene de este sitio. No se cambió nada.",
    },
    "entries": {"en": "Entries", "es": "Entradas"},
    "preview": {"en": "Preview", "es": "Probar"},
    "unanswered": {"en": "Unanswered", "es": "Sin respuesta"},
    "audit": {"en": "Audit", "es": "Registro"},
    "search": {"en": "Search", "es": "Buscar"},
    "show_retired": {"en": "include retired", "es": "incluir retiradas"},
    "new_entry": {"en": "New entry", "es": "Nueva entrada"},
    "edit_entry": {"en": "Edit entry", "es": "Editar entrada"},
    "id": {"en": "Id (slug)", "es": "Id (slug)"},
    "tags": {"en": "Tags (comma-separated)", "es": "Etiquetas (separadas por comas)"},
    "question": {"en": "Question", "es": "Pregunta"},
    "paraphrases": {"en": "Paraphrases (one per line)", "es": "Paráfrasis (una por línea)"},
    "answer": {"en": "Answer", "es": "Respuesta"},
    "english": {"en": "English", "es": "Inglés"},
    "spanish": {"en": "Spanish", "es": "Español"},
    "save": {"en": "Save", "es": "Guardar"},
    "retire": {"en": "Retire", "es": "Retirar"},
    "restore": {"en": "Restore", "es": "Restaurar"},
    "retired": {"en": "retired", "es": "retirada"},
    "saved": {
        "en": "Saved. The bot serves it within seconds.",
        "es": "Guardado. El bot lo usa en unos segundos.",
    },
    "not_saved": {"en": "Not saved:", "es": "No se guardó:"},
    "no_entries": {"en": "No entries match.", "es": "Ninguna entrada coincide."},
    "updated": {"en": "Updated", "es": "Actualizada"},
    "version": {"en": "Version", "es": "Versión"},
    "ask": {"en": "Ask as a customer would", "es": "Pregunte como un cliente"},
    "language": {"en": "Language", "es": "Idioma"},
    "decision": {"en": "Decision", "es": "Decisión"},
    "answer_kind": {"en": "answer", "es": "responde"},
    "choose_kind": {"en": "offer choices", "es": "ofrece opciones"},
    "decline_kind": {"en": "decline (offer a person)", "es": "no responde (ofrece una persona)"},
    "matches": {"en": "Top matches", "es": "Mejores coincidencias"},
    "score": {"en": "Score", "es": "Puntuación"},
    "count": {"en": "Times asked", "es": "Veces"},
    "last_asked": {"en": "Last asked", "es": "Última vez"},
    "as_new": {"en": "New entry from this", "es": "Nueva entrada con esto"},
    "as_paraphrase": {"en": "Add as paraphrase of", "es": "Añadir como paráfrasis de"},
    "add": {"en": "Add", "es": "Añadir"},
    "no_unanswered": {"en": "No unanswered questions.", "es": "No hay preguntas sin respuesta."},
    "when": {"en": "When", "es": "Cuándo"},
    "who": {"en": "Who", "es": "Quién"},
    "action": {"en": "Action", "es": "Acción"},
    "entry": {"en": "Entry", "es": "Entrada"},
    "before": {"en": "Before", "es": "Antes"},
    "after": {"en": "After", "es": "Después"},
    "no_audit": {"en": "No changes yet.", "es": "Aún no hay cambios."},
    "not_found": {"en": "No such entry.", "es": "No existe esa entrada."},
    "signed_in_as": {"en": "Signed in as", "es": "Sesión de"},
}


def ui_lang(request: Request) -> str:
    """The UI language: ``?ui=``, else the cookie, else Accept-Language, else English."""
    for candidate in (request.query_params.get("ui"), request.cookies.get(UI_COOKIE)):
        if candidate in UI_LANGS:
            return candidate
    accept = request.headers.get("accept-language", "").strip().lower()
    return "es" if accept.startswith("es") else "en"


def translator(lang: str) -> Callable[[str], str]:
    """A function from a string key to its text in ``lang``."""
    return lambda key: STRINGS[key].get(lang) or STRINGS[key]["en"]
