"""The six built-in campaign kinds of the combat layer and the JSON Schemas of their settings."""

from __future__ import annotations

from typing import Any

_money = {"type": "string", "pattern": r"^[0-9]{1,14}(\.[0-9]{1,4})?$"}
_text = {"type": "string", "maxLength": 500}

BUILTIN_KINDS: dict[str, dict[str, Any]] = {
    "visual": {
        "name": "Visual experience",
        "settings_schema": {
            "type": "object",
            "properties": {
                "page": _text,
                "variants": {
                    "type": "array",
                    "maxItems": 20,
                    "items": {
                        "type": "object",
                        "properties": {"key": {"type": "string", "maxLength": 64}, "description": _text},
                        "required": ["key"],
                    },
                },
            },
            "required": ["page"],
            "additionalProperties": False,
        },
    },
    "sem": {
        "name": "Search engine marketing",
        "settings_schema": {
            "type": "object",
            "properties": {
                "keywords": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 1000,
                    "items": {
                        "type": "object",
                        "properties": {
                            "text": {"type": "string", "minLength": 1, "maxLength": 200},
                            "match_type": {"enum": ["exact", "phrase", "broad"]},
                            "max_cpc": _money,
                        },
                        "required": ["text", "match_type"],
                        "additionalProperties": False,
                    },
                },
                "daily_budget": _money,
            },
            "required": ["keywords"],
            "additionalProperties": False,
        },
    },
    "social": {
        "name": "Social media",
        "settings_schema": {
            "type": "object",
            "properties": {
                "platform": {"enum": ["tiktok", "facebook", "instagram", "linkedin", "youtube", "x", "pinterest"]},
                "handles": {"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 100}},
                "post_plan": {
                    "type": "array",
                    "maxItems": 500,
                    "items": {
                        "type": "object",
                        "properties": {"date": {"type": "string", "format": "date"}, "topic": _text},
                        "required": ["date", "topic"],
                    },
                },
            },
            "required": ["platform"],
            "additionalProperties": False,
        },
    },
    "edm": {
        "name": "Email direct marketing",
        "settings_schema": {
            "type": "object",
            "properties": {
                "audience": _text,
                "subject_lines": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 20,
                    "items": {"type": "string", "minLength": 1, "maxLength": 200},
                },
                "send_time": {"type": "string", "format": "date-time"},
            },
            "required": ["audience", "subject_lines"],
            "additionalProperties": False,
        },
    },
    "service": {
        "name": "Service marketing",
        "settings_schema": {
            "type": "object",
            "properties": {
                "channel": {"enum": ["whatsapp", "email", "site_message", "wangwang", "phone", "live_chat"]},
                "scripts": {"type": "array", "maxItems": 100, "items": {"type": "string", "maxLength": 2000}},
                "sla_minutes": {"type": "integer", "minimum": 1, "maximum": 10080},
            },
            "required": ["channel"],
            "additionalProperties": False,
        },
    },
    "live_broadcast": {
        "name": "Live broadcast",
        "settings_schema": {
            "type": "object",
            "properties": {
                "platform": {"enum": ["alibaba_live", "tiktok_live", "amazon_live", "youtube_live", "facebook_live"]},
                "host": {"type": "string", "minLength": 1, "maxLength": 200},
                "slots": {
                    "type": "array",
                    "maxItems": 200,
                    "items": {
                        "type": "object",
                        "properties": {
                            "starts_at": {"type": "string", "format": "date-time"},
                            "minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
                        },
                        "required": ["starts_at", "minutes"],
                    },
                },
                "featured_skus": {"type": "array", "maxItems": 200, "items": {"type": "string", "maxLength": 64}},
            },
            "required": ["platform", "host"],
            "additionalProperties": False,
        },
    },
}
