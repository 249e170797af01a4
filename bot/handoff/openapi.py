"""The OpenAPI 3.1 description of the staff API (served at ``/api/staff/openapi.json``)."""

from __future__ import annotations

from typing import Any

from bot.privacy import MAX_SUBJECT, SUBJECT_PATTERN


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _ok(ref: str, description: str = "OK") -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


# Who acts: one line, trimmed to its first 60 characters; null or blank is 'admin'.
_AGENT: dict[str, Any] = {
    "type": ["string", "null"],
    "description": "who acts (for claims and the audit): trimmed to 60 characters; default 'admin'",
}

_AGENT_BODY = {
    "required": False,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"agent": _AGENT},
            }
        }
    },
}

_ID = {"name": "handoff_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _action(summary: str, *, conflict: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "parameters": [_ID],
            "requestBody": _AGENT_BODY,
            "responses": {
                "200": _ok("Handoff"),
                "400": _error("invalid JSON body"),
                "401": _error("no or wrong bearer token"),
                "404": _error("unknown handoff id"),
                "409": _error(conflict),
            },
        }
    }


_SUBJECT = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_SUBJECT,
    "pattern": SUBJECT_PATTERN,
    "description": "a conversation id (web:..., telegram:..., slack:T:U), an email or a phone",
    "examples": ["web:Zq3...", "telegram:123456", "ana@example.com", "+34600123456"],
}

_PRIVACY_PATHS: dict[str, Any] = {
    "/api/staff/privacy/export": {
        "get": {
            "summary": "Everything Faro holds about one customer, per table (audited)",
            "parameters": [
                {"name": "subject", "in": "query", "required": True, "schema": _SUBJECT},
                {
                    "name": "agent",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "who asks (for the audit): trimmed to 60 characters",
                },
            ],
            "responses": {
                "200": _ok("PrivacyExport"),
                "400": _error("not a conversation id, an email or a phone"),
                "401": _error("no or wrong bearer token"),
            },
        }
    },
    "/api/staff/privacy/erase": {
        "post": {
            "summary": "Erase everything Faro holds about one customer, Rasa's tracker too",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["subject"],
                            "properties": {
                                "subject": _SUBJECT,
                                "agent": _AGENT,
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": _ok("PrivacyErased"),
                "400": _error("not a conversation id, an email or a phone, or invalid JSON"),
                "401": _error("no or wrong bearer token"),
                "413": _error("body too large"),
            },
        }
    },
}

_PRIVACY_SCHEMAS: dict[str, Any] = {
    "PrivacyExport": {
        "type": "object",
        "required": ["subject", "conversations", "data"],
        "properties": {
            "subject": {"type": "string"},
            "conversations": {"type": "array", "items": {"type": "string"}},
            "data": {
                "type": "object",
                "description": "rows per table (Rasa's events under rasa_tracker)",
                "additionalProperties": {"type": "array", "items": {"type": "object"}},
            },
        },
    },
    "PrivacyErased": {
        "type": "object",
        "required": ["subject", "conversations", "erased", "total"],
        "properties": {
            "subject": {"type": "string"},
            "conversations": {"type": "array", "items": {"type": "string"}},
            "erased": {
                "type": "object",
                "description": "rows erased per table (every table checked, zeros included)",
                "additionalProperties": {"type": "integer"},
            },
            "total": {"type": "integer"},
        },
    },
}


def openapi_schema(*, privacy: bool = True) -> dict[str, Any]:
    """The schema document (with the customers' data paths when ``privacy``)."""
    message = {
        "type": "object",
        "required": ["role", "text", "at"],
        "properties": {
            "id": {"type": "integer"},
            "role": {"type": "string", "enum": ["user", "bot", "agent"]},
            "text": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "author": {"type": ["string", "null"], "description": "agent replies: who wrote it"},
            "delivery": {
                "type": ["string", "null"],
                "enum": ["sent", "failed", None],
                "description": "agent replies: whether the customer's channel accepted it",
            },
            "error": {"type": ["string", "null"], "description": "why a reply was not delivered"},
        },
    }
    handoff = {
        "type": "object",
        "required": [
            "id",
            "conversation_id",
            "channel",
            "lang",
            "state",
            "opened_at",
            "claimed_by",
            "transcript",
        ],
        "properties": {
            "id": {"type": "integer"},
            "conversation_id": {
                "type": "string",
                "examples": ["web:Zq3...", "telegram:123456", "slack:T01:U02"],
            },
            "channel": {"type": "string", "examples": ["web", "telegram", "slack"]},
            "lang": {"type": "string", "examples": ["en", "es"]},
            "state": {"type": "string", "enum": ["waiting", "active", "closed"]},
            "opened_at": {"type": "string", "format": "date-time"},
            "claimed_by": {"type": ["string", "null"]},
            "claimed_at": {"type": ["string", "null"], "format": "date-time"},
            "closed_at": {"type": ["string", "null"], "format": "date-time"},
            "outcome": {
                "type": ["string", "null"],
                "enum": ["released", "closed", "cancelled", None],
                "description": "how a closed handoff ended",
            },
            "transcript": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
            "touched": {
                "type": "object",
                "description": (
                    "only on GET /api/staff/handoffs/{handoff_id}: the FAQ entries the bot "
                    "answered or offered before the handoff, and the incidents asked about"
                ),
                "properties": {
                    "faq": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "string"},
                                "question": {"type": "string"},
                                "version": {"type": ["integer", "null"]},
                                "how": {"type": "string", "enum": ["answered", "offered"]},
                            },
                        },
                    },
                    "incidents": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "string"},
                                "name": {"type": ["string", "null"]},
                                "status": {"type": ["string", "null"]},
                                "current": {"type": "boolean"},
                                "asked_at": {"type": "string", "format": "date-time"},
                            },
                        },
                    },
                },
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Faro staff API",
            "version": "1",
            "description": (
                "Hand conversations to people: list the queue, claim, reply, hand back to "
                "the bot, close. Authenticate with Authorization: Bearer <FARO_ADMIN_TOKEN>."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/staff/handoffs": {
                "get": {
                    "summary": "Handoffs in one state (waiting and active oldest first)",
                    "parameters": [
                        {
                            "name": "state",
                            "in": "query",
                            "required": False,
                            "schema": {
                                "type": "string",
                                "enum": ["waiting", "active", "closed"],
                                "default": "waiting",
                            },
                        }
                    ],
                    "responses": {
                        "200": _ok("HandoffList"),
                        "400": _error("unknown state"),
                        "401": _error("no or wrong bearer token"),
                    },
                }
            },
            "/api/staff/handoffs/{handoff_id}": {
                "get": {
                    "summary": "One handoff with its transcript",
                    "parameters": [_ID],
                    "responses": {
                        "200": _ok("Handoff"),
                        "401": _error("no or wrong bearer token"),
                        "404": _error("unknown handoff id"),
                    },
                }
            },
            "/api/staff/handoffs/{handoff_id}/claim": _action(
                "Claim a waiting handoff (atomic: of two agents, one wins)",
                conflict="claimed by someone else, or closed",
            ),
            "/api/staff/handoffs/{handoff_id}/reply": {
                "post": {
                    "summary": "Reply to the customer on their channel (HTML is sent as text)",
                    "parameters": [_ID],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["text"],
                                    "properties": {
                                        "text": {
                                            "type": "string",
                                            "minLength": 1,
                                            "maxLength": 4000,
                                            "pattern": r"[^\s\x1c-\x1f\x85]",
                                            "description": "not only spaces",
                                        },
                                        "agent": _AGENT,
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _ok("Reply", "delivered"),
                        "400": _error("empty text or invalid JSON"),
                        "401": _error("no or wrong bearer token"),
                        "404": _error("unknown handoff id"),
                        "409": _error("not claimed by this agent, or closed"),
                        "413": _error("text longer than 4000 characters"),
                        "502": {
                            "description": "stored but not delivered: the reason is in error",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/NotDelivered"}
                                }
                            },
                        },
                    },
                }
            },
            "/api/staff/handoffs/{handoff_id}/release": _action(
                "Hand the conversation back to the bot",
                conflict="held by another agent, or closed",
            ),
            "/api/staff/handoffs/{handoff_id}/close": _action(
                "Close the handoff", conflict="held by another agent, or closed"
            ),
            "/api/staff/figures": {
                "get": {
                    "summary": "Queue length, longest wait, handled today, agents online",
                    "responses": {
                        "200": _ok("Figures"),
                        "401": _error("no or wrong bearer token"),
                    },
                }
            },
            **(_PRIVACY_PATHS if privacy else {}),
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}},
                },
                "Message": message,
                "Handoff": handoff,
                "HandoffList": {
                    "type": "object",
                    "required": ["handoffs"],
                    "properties": {
                        "handoffs": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Handoff"},
                        }
                    },
                },
                "Reply": {
                    "type": "object",
                    "required": ["message"],
                    "properties": {"message": {"$ref": "#/components/schemas/Message"}},
                },
                "NotDelivered": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": {"type": "string"},
                        "message": {"$ref": "#/components/schemas/Message"},
                    },
                },
                **(_PRIVACY_SCHEMAS if privacy else {}),
                "Figures": {
                    "type": "object",
                    "properties": {
                        "waiting": {"type": "integer"},
                        "active": {"type": "integer"},
                        "longest_wait_s": {"type": ["number", "null"]},
                        "handled_today": {"type": "integer"},
                        "agents_online": {"type": "integer"},
                    },
                },
            },
        },
    }
