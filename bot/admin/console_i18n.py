"""The console's UI strings (dashboard, grouped unanswered questions, templates), en/es."""

from __future__ import annotations

CONSOLE_STRINGS: dict[str, dict[str, str]] = {
    "dashboard": {"en": "Dashboard", "es": "Panel"},
    "entries_nav": {"en": "Entries", "es": "Entradas"},
    "templates": {"en": "Templates", "es": "Plantillas"},
    "told_now": {
        "en": "What customers are told right now",
        "es": "Qué se les dice ahora a los clientes",
    },
    "as_of": {"en": "as of", "es": "a las"},
    "no_status_feed": {"en": "No status feed connected.", "es": "No hay fuente de estado."},
    "open_incident": {"en": "Open incident", "es": "Incidente abierto"},
    "last_update": {"en": "Last update:", "es": "Última actualización:"},
    "none_now": {"en": "None right now.", "es": "Ninguno ahora."},
    "subscribers": {"en": "Subscribers by channel", "es": "Suscriptores por canal"},
    "last_broadcast": {"en": "Last broadcast", "es": "Último aviso"},
    "sent": {"en": "sent", "es": "enviados"},
    "failed": {"en": "failed", "es": "fallidos"},
    "waiting": {"en": "waiting", "es": "en espera"},
    "questions_per_minute": {
        "en": "Questions per minute, last 3 hours",
        "es": "Preguntas por minuto, últimas 3 horas",
    },
    "per_minute": {"en": "per minute", "es": "por minuto"},
    "rates_help": {
        "en": "Every customer question, by topic (a question about two topics counts in both).",
        "es": "Cada pregunta de los clientes, por tema (una sobre dos temas cuenta en ambos).",
    },
    "biggest_groups": {
        "en": "Biggest groups of unanswered questions",
        "es": "Grupos más grandes de preguntas sin respuesta",
    },
    "live_note": {
        "en": "This page updates itself every few seconds.",
        "es": "Esta página se actualiza sola cada pocos segundos.",
    },
    "groups_help": {
        "en": "Questions the bot could not answer, grouped by meaning, biggest first. Map a "
        "group to the entry that answers it (its questions become paraphrases, and the bot "
        "answers them from now on), make a new entry from it, or hide it as not ours.",
        "es": "Preguntas que el bot no supo responder, agrupadas por significado, las más "
        "frecuentes primero. Asigne un grupo a la entrada que lo responde (sus preguntas pasan "
        "a ser paráfrasis y el bot las responde desde ahora), cree una entrada nueva con él, "
        "u ocúltelo si no nos corresponde.",
    },
    "open_groups": {"en": "Open groups", "es": "Grupos abiertos"},
    "still_grouping": {"en": "still being grouped", "es": "aún por agrupar"},
    "first_seen": {"en": "First seen", "es": "Primera vez"},
    "map_to": {"en": "Answered by", "es": "Lo responde"},
    "map_group": {"en": "Map the group", "es": "Asignar el grupo"},
    "not_ours": {"en": "Not ours", "es": "No nos corresponde"},
    "group_mapped": {
        "en": "Mapped: the bot answers these questions now.",
        "es": "Asignado: el bot ya responde estas preguntas.",
    },
    "group_dismissed": {
        "en": "Hidden as not ours.",
        "es": "Ocultado: no nos corresponde.",
    },
    "templates_help": {
        "en": "What the bot says about incidents and in broadcasts. A saved edit is live "
        "within seconds on every replica; every version is kept and can be put back.",
        "es": "Lo que dice el bot sobre incidentes y en los avisos. Un cambio guardado se "
        "aplica en segundos en todas las réplicas; se guardan todas las versiones y se puede "
        "volver a cualquiera.",
    },
    "placeholders": {"en": "Placeholders it can use", "es": "Marcadores que puede usar"},
    "template_saved": {
        "en": "Saved: the bot uses this text from now on.",
        "es": "Guardado: el bot usa este texto desde ahora.",
    },
    "preview_draft": {
        "en": "Preview of the draft (not saved)",
        "es": "Vista previa del borrador (sin guardar)",
    },
    "preview_live": {
        "en": "Preview of the text in use, per channel",
        "es": "Vista previa del texto en uso, por canal",
    },
    "versions": {"en": "Versions", "es": "Versiones"},
    "what_changed": {"en": "What", "es": "Qué"},
    "roll_back": {"en": "Put back", "es": "Volver a"},
}
