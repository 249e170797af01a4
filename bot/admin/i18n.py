"""The admin's UI strings in English and Spanish."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

from bot.admin.console_i18n import CONSOLE_STRINGS
from bot.core.languages import LANGUAGES

UI_LANGS = LANGUAGES
UI_COOKIE = "faro_admin_ui"

STRINGS: dict[str, dict[str, str]] = {
    "title": {"en": "Faro admin", "es": "Administración de Faro"},
    "to_review": {"en": "To review", "es": "Por revisar"},
    "to_review_help": {
        "en": "FAQ entries and templates about the components the open incident affects or "
        "names. Check that each agrees with what the status page says now; edit the ones "
        "that don't.",
        "es": "Entradas y plantillas sobre los componentes que el incidente abierto afecta o "
        "menciona. Compruebe que cada una coincide con lo que dice ahora la página de estado; "
        "edite las que no.",
    },
    "nothing_to_review": {
        "en": "No open incident: nothing to review.",
        "es": "No hay incidentes abiertos: nada que revisar.",
    },
    "what": {"en": "Entry or template", "es": "Entrada o plantilla"},
    "text_now": {"en": "What it says now", "es": "Qué dice ahora"},
    "why_listed": {"en": "Why listed", "es": "Por qué aparece"},
    "template": {"en": "template", "es": "plantilla"},
    "by_tag": {"en": "its tags", "es": "sus etiquetas"},
    "by_content": {"en": "its text names it", "es": "su texto lo menciona"},
    "staff_alerts": {"en": "Needs attention now", "es": "Requiere atención ahora"},
    "start_announcement": {
        "en": "Start an announcement from this",
        "es": "Empezar un anuncio a partir de esto",
    },
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
    "too_many": {
        "en": "Too many failed sign-ins. Wait a little and try again.",
        "es": "Demasiados intentos fallidos. Espere un poco y vuelva a intentarlo.",
    },
    "unavailable": {
        "en": "The admin cannot reach its database right now. Try again in a minute.",
        "es": "El panel no puede acceder a su base de datos ahora. Inténtelo en un minuto.",
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
    # -- inbox (issue 14) --
    "inbox": {"en": "Inbox", "es": "Bandeja"},
    "inbox_waiting": {"en": "Waiting for a person", "es": "Esperando a una persona"},
    "inbox_mine": {"en": "With you", "es": "Contigo"},
    "inbox_others": {"en": "With other agents", "es": "Con otros agentes"},
    "inbox_empty": {"en": "Nobody is waiting.", "es": "No hay nadie esperando."},
    "inbox_pick": {
        "en": "Pick a conversation to read it.",
        "es": "Elija una conversación para leerla.",
    },
    "claim": {"en": "Claim", "es": "Atender"},
    "release": {"en": "Hand back to the bot", "es": "Devolver al bot"},
    "close_handoff": {"en": "Close", "es": "Cerrar"},
    "reply_placeholder": {"en": "Your reply to the customer", "es": "Su respuesta al cliente"},
    "role_user": {"en": "Customer", "es": "Cliente"},
    "role_bot": {"en": "Bot", "es": "Bot"},
    "role_agent": {"en": "Agent", "es": "Agente"},
    "not_delivered": {"en": "Not delivered", "es": "No entregado"},
    "waited": {"en": "waiting", "es": "esperando"},
    "claimed_by_label": {"en": "with", "es": "con"},
    "approved_answers": {
        "en": "What do we say about…",
        "es": "Qué decimos sobre…",
    },
    "insert": {"en": "Insert", "es": "Insertar"},
    "status_answer": {"en": "Current status answer", "es": "Respuesta de estado actual"},
    "changed": {"en": "changed", "es": "cambiada"},
    "queue_length": {"en": "In the queue", "es": "En cola"},
    "longest_wait": {"en": "Longest wait", "es": "Espera más larga"},
    "handled_today": {"en": "Handled today", "es": "Atendidas hoy"},
    "agents_online": {"en": "Agents online", "es": "Agentes conectados"},
    "subscribed_all": {
        "en": "Gets every incident update",
        "es": "Recibe todos los avisos de incidencias",
    },
    "subscribed_to": {"en": "Gets incident updates about", "es": "Recibe avisos sobre"},
    "not_subscribed": {"en": "No incident updates", "es": "Sin avisos de incidencias"},
    "touched": {"en": "What the conversation touched", "es": "De qué trató la conversación"},
    "faq_answered": {"en": "FAQ answered", "es": "FAQ respondida"},
    "faq_offered": {"en": "FAQ offered", "es": "FAQ ofrecida"},
    "incident_asked": {"en": "Asked about incident", "es": "Preguntó por la incidencia"},
    "incident_not_current": {
        "en": "no longer on the status page",
        "es": "ya no está en la página de estado",
    },
    # -- broadcasts (issue 8) --
    "broadcasts": {"en": "Broadcasts", "es": "Avisos"},
    "deliveries": {"en": "Deliveries", "es": "Entregas"},
    "subscribers": {"en": "Subscribers", "es": "Suscriptores"},
    "channel": {"en": "Channel", "es": "Canal"},
    "active_total": {"en": "Active, all channels", "es": "Activos, todos los canales"},
    "retired_subs": {
        "en": "Stopped or unreachable",
        "es": "Dados de baja o inalcanzables",
    },
    "new_announcement": {"en": "New announcement", "es": "Nuevo aviso"},
    "recent_broadcasts": {"en": "Recent broadcasts", "es": "Avisos recientes"},
    "no_broadcasts": {"en": "No broadcasts yet.", "es": "Aún no hay avisos."},
    "kind": {"en": "Kind", "es": "Tipo"},
    "broadcast_title": {"en": "Title", "es": "Título"},
    "recipients": {"en": "Recipients", "es": "Destinatarios"},
    "state_sent": {"en": "Sent", "es": "Enviados"},
    "state_pending": {"en": "Pending", "es": "Pendientes"},
    "state_sending": {"en": "Sending", "es": "Enviando"},
    "state_failed": {"en": "Failed", "es": "Fallidos"},
    "state_retired": {"en": "Unreachable", "es": "Inalcanzables"},
    "progress": {"en": "Progress", "es": "Progreso"},
    "done": {"en": "done", "es": "terminado"},
    "in_progress": {"en": "in progress", "es": "en curso"},
    "refreshing": {
        "en": "This page refreshes every 5 seconds while a broadcast is being delivered.",
        "es": "Esta página se actualiza cada 5 segundos mientras se entrega un aviso.",
    },
    "announcement_help": {
        "en": "Write in English, Spanish or both (at most {max} characters each). "
        "Subscribers get their language, or the other one if theirs is empty.",
        "es": "Escriba en inglés, en español o en ambos (como mucho {max} caracteres cada uno). "
        "Cada suscriptor recibe su idioma, o el otro si el suyo está vacío.",
    },
    "target": {"en": "Send to", "es": "Enviar a"},
    "all_subscribers": {"en": "All subscribers", "es": "Todos los suscriptores"},
    "component_note": {
        "en": "Choosing a component also reaches those who follow every incident.",
        "es": "Si elige un componente, también lo reciben quienes siguen todas las incidencias.",
    },
    "send": {"en": "Send", "es": "Enviar"},
    "preview_title": {
        "en": "What subscribers will get",
        "es": "Lo que recibirán los suscriptores",
    },
    "total_recipients": {"en": "Recipients in total", "es": "Destinatarios en total"},
    "send_note": {
        "en": "Sending writes the messages above to the outbox at once; it cannot be undone.",
        "es": "Al enviar, los mensajes de arriba pasan a la cola de envío; no se puede deshacer.",
    },
    "announce_empty": {
        "en": "Nothing sent: write the announcement in English or Spanish (or both).",
        "es": "No se envió nada: escriba el aviso en inglés o en español (o en ambos).",
    },
    "announce_too_long": {
        "en": "Nothing sent: the {lang} text has {length} characters; at most {max} are allowed.",
        "es": "No se envió nada: el texto en {lang} tiene {length} caracteres; el máximo es {max}.",
    },
    "announce_unknown_component": {
        "en": "Nothing sent: the status page has no component {name}.",
        "es": "No se envió nada: la página de estado no tiene el componente {name}.",
    },
    "announce_bad_key": {
        "en": "Nothing sent: this form is not valid any more. Start a new announcement.",
        "es": "No se envió nada: este formulario ya no es válido. Empiece un aviso nuevo.",
    },
    "sent_ok": {
        "en": "Sent: the messages are in the outbox and are being delivered.",
        "es": "Enviado: los mensajes están en la cola y se están entregando.",
    },
    "sent_again": {
        "en": "This announcement had already been sent; it was not sent again.",
        "es": "Este aviso ya se había enviado; no se volvió a enviar.",
    },
    "broadcast": {"en": "Broadcast", "es": "Aviso"},
    "failures": {"en": "Not delivered", "es": "No entregados"},
    "no_failures": {"en": "No failures.", "es": "Ningún fallo."},
    "error_col": {"en": "Reason", "es": "Motivo"},
    "attempts": {"en": "Attempts", "es": "Intentos"},
    "conversation": {"en": "Conversation id", "es": "Id de conversación"},
    "subscription": {"en": "Subscription", "es": "Suscripción"},
    "no_subscription": {"en": "No subscription.", "es": "Sin suscripción."},
    "sub_active": {"en": "active", "es": "activa"},
    "sub_stopped": {"en": "stopped", "es": "detenida"},
    "components": {"en": "Components", "es": "Componentes"},
    "every_incident": {"en": "every incident", "es": "todas las incidencias"},
    "since": {"en": "Since", "es": "Desde"},
    "sent_at": {"en": "Sent at", "es": "Enviado"},
    "state": {"en": "State", "es": "Estado"},
    "message_col": {"en": "Message", "es": "Mensaje"},
    "no_deliveries": {
        "en": "Nothing was sent to this conversation.",
        "es": "No se envió nada a esta conversación.",
    },
    "show": {"en": "Show", "es": "Mostrar"},
    "no_broadcast": {"en": "No such broadcast.", "es": "No existe ese aviso."},
    "interrupted": {"en": "interrupted, sent again", "es": "interrumpido, reenviado"},
}

STRINGS.update(CONSOLE_STRINGS)


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
