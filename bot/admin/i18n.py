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
    # email and SMS in the broadcast preview (issue 18)
    "email_subject": {"en": "Subject", "es": "Asunto"},
    "contact_audit": {"en": "Email/SMS subscription history", "es": "Historial de la suscripción"},
    "contact_at": {"en": "When", "es": "Cuándo"},
    "contact_event": {"en": "What", "es": "Qué"},
    "contact_detail": {"en": "Details", "es": "Detalles"},
    "contact_event_requested": {"en": "confirmation sent", "es": "confirmación enviada"},
    "contact_event_confirmed": {"en": "confirmed", "es": "confirmada"},
    "contact_event_wrong_code": {"en": "wrong code entered", "es": "código incorrecto"},
    "contact_event_unsubscribed": {"en": "unsubscribed", "es": "baja"},
    "contact_event_unsubscribe_again": {
        "en": "unsubscribe (was not subscribed)",
        "es": "baja (no estaba suscrito)",
    },
    "contact_event_bounced": {"en": "bounced", "es": "rebotado"},
    "contact_event_provider_refused": {
        "en": "refused by the SMS provider",
        "es": "rechazado por el proveedor de SMS",
    },
    "email_html": {"en": "The email as subscribers see it", "es": "El correo tal como lo ven"},
    "email_text": {"en": "Plain-text part", "es": "Parte de texto plano"},
    "sms_segments": {
        "en": "{segments} segment(s), {encoding}, {units} characters counted",
        "es": "{segments} segmento(s), {encoding}, {units} caracteres contados",
    },
    "no_deliveries": {
        "en": "Nothing was sent to this conversation.",
        "es": "No se envió nada a esta conversación.",
    },
    "show": {"en": "Show", "es": "Mostrar"},
    "no_broadcast": {"en": "No such broadcast.", "es": "No existe ese aviso."},
    "interrupted": {"en": "interrupted, sent again", "es": "interrumpido, reenviado"},
    # -- the post-incident report and review marks (issue 16) --
    "report_title": {"en": "Incident report", "es": "Informe de la incidencia"},
    "reports": {"en": "Incident reports", "es": "Informes de incidencias"},
    "reports_help": {
        "en": "Pick an incident: what happened, what customers asked, who was told what and when.",
        "es": "Elige una incidencia: qué pasó, qué preguntaron los clientes, a quién se "
        "avisó y cuándo.",
    },
    "no_incidents": {
        "en": "No incident in the status history yet.",
        "es": "Aún no hay incidencias en el historial de estado.",
    },
    "no_incident": {"en": "No such incident.", "es": "No existe esa incidencia."},
    "incidents": {"en": "Incidents", "es": "Incidencias"},
    "incident": {"en": "Incident", "es": "Incidencia"},
    "impact": {"en": "Impact", "es": "Impacto"},
    "from": {"en": "From", "es": "Desde"},
    "to": {"en": "To", "es": "Hasta"},
    "still_open": {"en": "still open", "es": "sigue abierta"},
    "questions_asked": {"en": "questions", "es": "preguntas"},
    "outcome_answered": {"en": "answered from the FAQ", "es": "respondidas con las FAQ"},
    "outcome_status": {"en": "status answers", "es": "respuestas de estado"},
    "outcome_declined": {"en": "not answered", "es": "sin respuesta"},
    "outcome_handed_off": {"en": "handed to a person", "es": "pasadas a una persona"},
    "outcome_other": {"en": "other", "es": "otras"},
    "people_told": {"en": "deliveries", "es": "envíos"},
    "question_volume": {"en": "Questions by topic", "es": "Preguntas por tema"},
    "no_questions_window": {
        "en": "No questions logged during the incident.",
        "es": "No se registraron preguntas durante la incidencia.",
    },
    "timeline": {"en": "Timeline", "es": "Cronología"},
    "detail": {"en": "Detail", "es": "Detalle"},
    "event": {"en": "What happened", "es": "Qué pasó"},
    "broadcasts_sent": {"en": "broadcasts", "es": "avisos"},
    "ev_status_update": {"en": "status", "es": "estado"},
    "ev_broadcast": {"en": "broadcast", "es": "aviso"},
    "ev_staff_alert": {"en": "alert", "es": "alerta"},
    "ev_handoff": {"en": "handoff", "es": "traspaso"},
    "ev_review": {"en": "review", "es": "revisión"},
    "who_told": {"en": "Who was told what, and when", "es": "A quién se avisó de qué, y cuándo"},
    "reach": {"en": "Deliveries per channel", "es": "Envíos por canal"},
    "nobody": {"en": "nobody", "es": "nadie"},
    "no_broadcasts_incident": {
        "en": "No broadcast about this incident.",
        "es": "Ningún aviso sobre esta incidencia.",
    },
    "top_unanswered": {
        "en": "Top unanswered questions",
        "es": "Preguntas sin respuesta más repetidas",
    },
    "none_unanswered": {
        "en": "Every question in the window was answered.",
        "es": "Todas las preguntas del periodo tuvieron respuesta.",
    },
    "handoffs": {"en": "Handoffs to a person", "es": "Traspasos a una persona"},
    "claimed_by": {"en": "Taken by", "es": "Atendido por"},
    "wait": {"en": "Wait", "es": "Espera"},
    "no_handoffs_window": {
        "en": "Nobody asked for a person during the incident.",
        "es": "Nadie pidió hablar con una persona durante la incidencia.",
    },
    "follow_up": {"en": "Customers to follow up", "es": "Clientes a quienes dar seguimiento"},
    "follow_up_help": {
        "en": "Customers who asked during the incident and agreed to be contacted: they hold an "
        "active subscription, or they asked for a person. Asking a question alone is not consent.",
        "es": "Clientes que preguntaron durante la incidencia y aceptaron ser contactados: tienen "
        "una suscripción activa o pidieron hablar con una persona. Preguntar no basta como "
        "consentimiento.",
    },
    "customer": {"en": "Customer", "es": "Cliente"},
    "contact": {"en": "Contact", "es": "Contacto"},
    "basis": {"en": "Agreed by", "es": "Consentimiento"},
    "basis_subscribed": {"en": "subscribed", "es": "suscripción"},
    "basis_asked_for_person": {"en": "asked for a person", "es": "pidió una persona"},
    "no_follow_up": {
        "en": "Nobody who asked agreed to be contacted.",
        "es": "Nadie de quienes preguntaron aceptó ser contactado.",
    },
    "generated": {"en": "Generated", "es": "Generado"},
    "download_html": {"en": "Download (HTML)", "es": "Descargar (HTML)"},
    "download_csv": {"en": "Download (CSV)", "es": "Descargar (CSV)"},
    "confirm": {"en": "Confirm", "es": "Confirmar"},
    "edit": {"en": "Edit", "es": "Editar"},
    "review_done": {"en": "Reviewed for this phase", "es": "Revisado en esta fase"},
    "review_actions": {"en": "Action", "es": "Acción"},
    "review_gone": {
        "en": "That item is no longer to review.",
        "es": "Ese elemento ya no está por revisar.",
    },
    "dismiss": {"en": "Dismiss", "es": "Descartar"},
    # -- accounts, roles, sign-in (issue 15) --
    "skip": {"en": "Skip to content", "es": "Saltar al contenido"},
    "menu": {"en": "Console sections", "es": "Secciones de la consola"},
    "ui_language": {"en": "Language of the console", "es": "Idioma de la consola"},
    "login_name": {"en": "Name or email", "es": "Nombre o correo"},
    "login_password": {"en": "Password", "es": "Contraseña"},
    "login_help": {
        "en": "Your own account. Deployments may also sign in an admin with the bootstrap "
        "password or token.",
        "es": "Su propia cuenta. Las instalaciones también pueden entrar como administrador "
        "con la contraseña o el token de arranque.",
    },
    "sso_login": {"en": "Sign in with single sign-on", "es": "Entrar con inicio de sesión único"},
    "sso_failed": {
        "en": "Single sign-on did not succeed. Nothing was changed; try again.",
        "es": "El inicio de sesión único no funcionó. No se cambió nada; vuelva a intentarlo.",
    },
    "sso_no_role": {
        "en": "Your identity provider gives you no role in this console. Ask an admin.",
        "es": "Su proveedor de identidad no le da ningún rol en esta consola. Pida a un "
        "administrador.",
    },
    "forbidden": {
        "en": "Your account has no access to this page. Ask an admin for the role it needs.",
        "es": "Su cuenta no tiene acceso a esta página. Pida a un administrador el rol necesario.",
    },
    "bad_link": {
        "en": "This sign-in link is not valid: it was used already, has expired or is "
        "mistyped. Ask an admin for a new one.",
        "es": "Este enlace de acceso no es válido: ya se usó, caducó o está mal copiado. "
        "Pida uno nuevo a un administrador.",
    },
    "my_account": {"en": "My account", "es": "Mi cuenta"},
    "accounts": {"en": "Accounts", "es": "Cuentas"},
    "welcome_set_password": {
        "en": "You are signed in. Set a password now: the link you used works only once.",
        "es": "Ha entrado. Defina ahora una contraseña: el enlace que usó solo sirve una vez.",
    },
    "password_saved": {
        "en": "Password saved. Your other sessions were signed out.",
        "es": "Contraseña guardada. Se cerraron sus otras sesiones.",
    },
    "new_password": {
        "en": "New password (10+ characters)",
        "es": "Contraseña nueva (10+ caracteres)",
    },
    "new_password2": {"en": "New password again", "es": "Repita la contraseña nueva"},
    "set_password": {"en": "Set password", "es": "Guardar contraseña"},
    "mismatch": {"en": "The two passwords differ.", "es": "Las dos contraseñas no coinciden."},
    "roles": {"en": "Roles", "es": "Roles"},
    "roles_help": {
        "en": "Everyone may view. Editor: FAQ and templates. Communicator: announcements. "
        "Agent: the inbox. Admin: accounts, and everything else.",
        "es": "Todos pueden ver. Editor: FAQ y plantillas. Comunicador: avisos. Agente: la "
        "bandeja. Administrador: cuentas y todo lo demás.",
    },
    "acct_role_viewer": {"en": "viewer", "es": "lector"},
    "acct_role_editor": {"en": "editor", "es": "editor"},
    "acct_role_communicator": {"en": "communicator", "es": "comunicador"},
    "acct_role_agent": {"en": "agent", "es": "agente"},
    "acct_role_admin": {"en": "admin", "es": "administrador"},
    "account_name": {"en": "Name", "es": "Nombre"},
    "email": {"en": "Email", "es": "Correo"},
    "add_account": {"en": "Add an account", "es": "Añadir una cuenta"},
    "create": {"en": "Create", "es": "Crear"},
    "account_state": {"en": "State", "es": "Estado"},
    "active": {"en": "active", "es": "activa"},
    "disabled": {"en": "disabled", "es": "desactivada"},
    "no_password": {"en": "no password yet", "es": "sin contraseña aún"},
    "via_sso": {"en": "single sign-on", "es": "inicio único"},
    "change_roles": {"en": "Save roles", "es": "Guardar roles"},
    "disable": {"en": "Disable", "es": "Desactivar"},
    "enable": {"en": "Enable", "es": "Activar"},
    "reset_link": {"en": "One-time link", "es": "Enlace de un uso"},
    "link_for": {
        "en": "Give this one-time sign-in link to the person, privately. It works once, "
        "for 24 hours, and asks them to set a password:",
        "es": "Entregue este enlace de un solo uso a la persona, en privado. Sirve una vez, "
        "durante 24 horas, y le pide definir una contraseña:",
    },
    "account_saved": {"en": "Account saved.", "es": "Cuenta guardada."},
    "account_changes": {"en": "Recent changes to accounts", "es": "Cambios recientes en cuentas"},
    "change": {"en": "Change", "es": "Cambio"},
    "actions": {"en": "Actions", "es": "Acciones"},
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
