"""A small local Telegram Bot API server for end-to-end tests with the real PTB `Application`."""

from __future__ import annotations

import copy
import email.message
import itertools
import json
import mimetypes
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

JSON = dict[str, Any]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_RESULTS = 50
MAX_INLINE_RESULT_ID_BYTES = 64
MAX_NEXT_OFFSET_BYTES = 64
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses bigger files ("file is too big")

# Update types getUpdates delivers when allowed_updates is empty or was never given.
_DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)

# PTB sends every non-string parameter JSON-encoded inside form data, and strings as they are,
# so a form value is JSON-decoded unless the parameter is one of these string parameters
# (otherwise a text "123" would turn into the number 123).
_STRING_PARAMS = frozenset(
    {
        "action",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "description",
        "document",
        "emoji",
        "file_id",
        "inline_message_id",
        "inline_query_id",
        "ip_address",
        "language_code",
        "message_effect_id",
        "name",
        "next_offset",
        "parse_mode",
        "photo",
        "query",
        "secret_token",
        "short_description",
        "switch_pm_parameter",
        "switch_pm_text",
        "text",
        "title",
        "url",
    }
)
_INT_PARAMS = frozenset(
    {
        "cache_time",
        "chat_id",
        "limit",
        "max_connections",
        "message_id",
        "message_thread_id",
        "offset",
        "reply_to_message_id",
        "timeout",
        "user_id",
    }
)
_BOOL_PARAMS = frozenset(
    {
        "allow_sending_without_reply",
        "disable_notification",
        "disable_web_page_preview",
        "drop_pending_updates",
        "is_personal",
        "protect_content",
        "show_alert",
    }
)

# Object parameters; a JSON body may still carry them as JSON strings (as form data always does).
_OBJECT_PARAMS = frozenset(
    {
        "allowed_updates",
        "button",
        "caption_entities",
        "commands",
        "entities",
        "link_preview_options",
        "reply_markup",
        "reply_parameters",
        "results",
        "scope",
    }
)

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

# Exactly one of these makes an inline keyboard button do something.
_INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

_INLINE_RESULT_TYPES = frozenset(
    {
        "article",
        "audio",
        "contact",
        "document",
        "game",
        "gif",
        "location",
        "mpeg4_gif",
        "photo",
        "sticker",
        "venue",
        "video",
        "voice",
    }
)

_BOT_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_START_PARAMETER_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_COMMAND_IN_TEXT_RE = re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_TOKEN_SHAPE_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")

_QUERY_ID_INVALID = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


class ApiError(Exception):
    """A Bot API error: becomes the `{"ok": false, ...}` envelope with this HTTP status."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass(frozen=True)
class Call:
    """One Bot API request as the server handled it (`at` is `time.monotonic()` on arrival)."""

    method: str
    params: JSON
    files: dict[str, bytes]
    at: float
    ok: bool = True
    error: str | None = None
    result: Any = None

    def brief(self) -> str:
        """One line for failure messages."""
        shown = {k: v for k, v in self.params.items() if k != "results"}
        text = json.dumps(shown, ensure_ascii=False, default=str)
        if len(text) > 160:
            text = text[:157] + "..."
        outcome = "ok" if self.ok else f"ERROR {self.error}"
        return f"{self.method} {text} -> {outcome}"


# --------------------------------------------------------------------------- HTML entities

_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_CHAR_REF_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([a-zA-Z]+));")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_char_ref(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the character reference at `pos` (which holds "&"): (character, end) or None."""
    match = _CHAR_REF_RE.match(text, pos)
    if match is None:
        return None
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        char = _NAMED_ENTITIES.get(name)
        return (char, match.end()) if char is not None else None
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


def _unescape_attribute(value: str) -> str:
    def replace(match: re.Match[str]) -> str:
        decoded = _decode_char_ref(match.string, match.start())
        return decoded[0] if decoded else match.group(0)

    return _CHAR_REF_RE.sub(replace, value)


@dataclass
class _OpenTag:
    name: str
    start: int  # offset in the plain text, in code points
    byte_offset: int
    attributes: dict[str, str]
    language: str | None = None


def parse_html(text: str) -> tuple[str, list[JSON]]:
    """Parse Bot API HTML into (plain text, MessageEntity dicts with UTF-16 offsets).

    Mirrors the real server's rules and error messages (description without the
    "Bad Request: can't parse entities: " prefix, which `ApiError` adds). One deliberate
    difference: Telegram keeps a bare "&" that starts no entity as text, this fake rejects
    it, because it always means a string reached the message without `html.escape`.
    Leading and trailing whitespace is stripped like Telegram does.
    """

    def fail(reason: str) -> ApiError:
        return _bad(f"can't parse entities: {reason}")

    pieces: list[str] = []
    plain_len = 0
    stack: list[_OpenTag] = []
    spans: list[tuple[int, int, JSON]] = []  # (start, end, entity without offsets)
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "&":
            decoded = _decode_char_ref(text, i)
            if decoded is None:
                raise fail(
                    f'Unsupported HTML entity or bare "&" at byte offset {_byte_offset(text, i)}'
                    " (this fake is stricter than Telegram: escape it as &amp;)"
                )
            pieces.append(decoded[0])
            plain_len += len(decoded[0])
            i = decoded[1]
            continue
        if char != "<":
            pieces.append(char)
            plain_len += 1
            i += 1
            continue
        begin = i
        i += 1
        if i < n and text[i] == "/":
            close = text.find(">", i)
            if close < 0:
                raise fail(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
            name = text[i + 1 : close].strip().lower()
            if not stack:
                raise fail(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
            top = stack[-1]
            if name != top.name:
                raise fail(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{top.name}>", found "</{name}>"'
                )
            stack.pop()
            i = close + 1
            language = top.attributes.get("class", "")
            if (
                top.name == "code"
                and stack
                and stack[-1].name == "pre"
                and language.startswith("language-")
            ):
                stack[-1].language = language.removeprefix("language-")
                continue  # <pre><code class="language-x"> is one pre entity with a language
            if plain_len > top.start:
                spans.append((top.start, plain_len, _entity_for(top)))
            continue
        name_end = i
        while name_end < n and not text[name_end].isspace() and text[name_end] != ">":
            name_end += 1
        if name_end >= n:
            raise fail(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        name = text[i:name_end].lower()
        if name not in _HTML_ENTITY_TYPES:
            raise fail(f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, begin)}')
        attributes, i = _parse_attributes(text, name_end, name, begin)
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise fail(
                'Tag "span" must have class "tg-spoiler" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
            raise fail(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        stack.append(_OpenTag(name, plain_len, _byte_offset(text, begin), attributes))
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return _strip_and_convert("".join(pieces), spans)


def _parse_attributes(text: str, pos: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    """Read `name="value"` pairs up to and including ">"; returns them and the next position."""
    n = len(text)
    attributes: dict[str, str] = {}

    def unclosed() -> ApiError:
        return _bad(
            f"can't parse entities: Unclosed start tag at byte offset {_byte_offset(text, begin)}"
        )

    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            raise unclosed()
        if text[pos] == ">":
            return attributes, pos + 1
        name_end = pos
        while name_end < n and not text[name_end].isspace() and text[name_end] not in "=>":
            name_end += 1
        name = text[pos:name_end].lower()
        if not name:
            raise _bad(
                f'can\'t parse entities: Empty attribute name in the tag "{tag}" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        pos = name_end
        while pos < n and text[pos].isspace():
            pos += 1
        value = ""
        if pos < n and text[pos] == "=":
            pos += 1
            while pos < n and text[pos].isspace():
                pos += 1
            if pos >= n:
                raise unclosed()
            if text[pos] in "\"'":
                end = text.find(text[pos], pos + 1)
                if end < 0:
                    raise unclosed()
                value = text[pos + 1 : end]
                pos = end + 1
            else:
                end = pos
                while end < n and not text[end].isspace() and text[end] != ">":
                    end += 1
                value = text[pos:end]
                pos = end
        attributes[name] = _unescape_attribute(value)


def _entity_for(tag: _OpenTag) -> JSON:
    entity: JSON = {"type": _HTML_ENTITY_TYPES[tag.name]}
    if tag.name == "a":
        url = tag.attributes.get("href", "")
        user = re.fullmatch(r"tg://user\?id=(\d+)", url)
        if user:
            entity = {
                "type": "text_mention",
                "user": {"id": int(user.group(1)), "is_bot": False, "first_name": ""},
            }
        else:
            entity["url"] = url
    elif tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.name == "blockquote" and "expandable" in tag.attributes:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attributes["emoji-id"]
    return entity


def _strip_and_convert(plain: str, spans: list[tuple[int, int, JSON]]) -> tuple[str, list[JSON]]:
    lead = len(plain) - len(plain.lstrip())
    stripped = plain.strip()
    entities: list[JSON] = []
    for start, end, entity in spans:
        start = max(0, start - lead)
        end = min(len(stripped), end - lead)
        if end <= start:
            continue
        offset = _utf16_len(stripped[:start])
        entities.append({"offset": offset, "length": _utf16_len(stripped[start:end]), **entity})
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return stripped, entities


# --------------------------------------------------------------------------- images


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, JPEG, GIF or WebP image, or None when it is none of those."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            width = 1 + int.from_bytes(data[24:27], "little")
            return width, 1 + int.from_bytes(data[27:30], "little")
        if chunk == b"VP8 ":
            width = int.from_bytes(data[26:28], "little") & 0x3FFF
            return width, int.from_bytes(data[28:30], "little") & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        return None
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    start_of_frame = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE}
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in start_of_frame and pos + 9 <= len(data):
            height = int.from_bytes(data[pos + 5 : pos + 7], "big")
            return int.from_bytes(data[pos + 7 : pos + 9], "big"), height
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return None


@dataclass
class _StoredFile:
    kind: str  # "photo" or "document"
    data: bytes
    file_path: str
    file_unique_id: str
    # what a Message carries for it: a list of PhotoSize dicts or a Document dict
    payload: Any = None


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops connections when a bot opens many at once (a
    # burst of sends): the client's SYN is retried a second later, or the request fails.
    request_queue_size = 128
    api: FakeBotApi

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up on a long poll closes its socket: that is normal here.
        pass


class _Handler(BaseHTTPRequestHandler):
    # Headers and body go out as two writes; without TCP_NODELAY the second waits ~40 ms.
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    timeout = 60  # idle keep-alive connections end on their own
    server: _Server

    def do_GET(self) -> None:
        self.server.api._serve(self)

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass  # request lines carry the token; tests read `request_log` instead


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _header_params(value: str, header: str = "content-type") -> email.message.Message:
    message = email.message.Message()
    message[header] = value
    return message


def _parse_multipart(content_type: str, body: bytes) -> tuple[list[tuple[str, str]], JSON]:
    """Split multipart/form-data into text fields and file parts (bytes)."""
    boundary = _header_params(content_type).get_param("boundary")
    if not isinstance(boundary, str):
        raise _bad("can't parse multipart/form-data: no boundary")
    fields: list[tuple[str, str]] = []
    files: JSON = {}
    delimiter = b"--" + boundary.encode("latin-1")
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        part = part.removeprefix(b"\r\n")
        head, _, content = part.partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = _header_params(headers.get("content-disposition", ""), "content-disposition")
        name = disposition.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        filename = disposition.get_param("filename", header="content-disposition")
        if filename is None:
            fields.append((name, content.decode("utf-8")))
        else:
            files[name] = {
                "data": content,
                "filename": filename if isinstance(filename, str) else "file",
                "mime_type": headers.get("content-type", "application/octet-stream"),
            }
    return fields, files


def _decode_form_value(name: str, value: str) -> Any:
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _coerce(params: JSON) -> JSON:
    """Accept numbers, booleans and objects sent as strings, like the real server does."""
    for name, value in params.items():
        if name in _INT_PARAMS and isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            params[name] = int(value)
        elif name in _BOOL_PARAMS and isinstance(value, str) and value in ("true", "false"):
            params[name] = value == "true"
        elif name in _STRING_PARAMS and isinstance(value, int | float):
            params[name] = str(value)
        elif name in _OBJECT_PARAMS and isinstance(value, str) and value[:1] in ("{", "["):
            try:
                params[name] = json.loads(value)
            except ValueError as exc:
                raise _bad(f"can't parse {name} JSON object") from exc
    return params


def _reply_markup_json(value: Any) -> JSON | None:
    """reply_markup may arrive as an object or as a JSON string (form data)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise _bad("can't parse reply keyboard markup JSON object") from exc
    if not isinstance(value, dict):
        raise _bad("object expected as reply markup")
    return value


def _validate_reply_markup(markup: JSON | None) -> None:
    if markup is None:
        return
    if "inline_keyboard" not in markup:
        if not any(k in markup for k in ("keyboard", "remove_keyboard", "force_reply")):
            raise _bad("can't parse reply keyboard markup JSON object")
        return
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad('can\'t parse inline keyboard markup: Field "inline_keyboard" must be an Array')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise _bad(
                    'can\'t parse inline keyboard button: Field "text" must be of type String'
                )
            if not button["text"].strip():
                raise _bad("BUTTON_TEXT_INVALID")
            actions = [key for key in _INLINE_BUTTON_ACTIONS if key in button]
            if not actions:
                raise _bad(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                size = len(data.encode("utf-8")) if isinstance(data, str) else 0
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise _bad("BUTTON_DATA_INVALID")
            if "url" in button and not re.match(r"^(https?|tg|ton)://\S+$", str(button["url"])):
                raise _bad("BUTTON_URL_INVALID")


# --------------------------------------------------------------------------- the server


class FakeBotApi:
    """A Telegram Bot API server on 127.0.0.1 with a random port, backed by in-memory state.

    Users act through `user_sends`, `user_sends_document`, `user_sends_inline_query`,
    `user_presses_button` and `push_raw_update` (updates queue up for getUpdates); what the
    bot did is in `calls`, `messages(chat_id)` and `message(chat_id, message_id)`.
    """

    def __init__(
        self,
        token: str = "123456:TEST-token-abcdef",
        bot_username: str = "ReactionsTestBot",
        bot_id: int = 123456,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = bot_id
        self.bot_user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_username,
            "username": bot_username,
        }
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self._calls: list[Call] = []
        self._request_log: list[str] = []
        self._updates: list[JSON] = []
        self._next_update_id = 1
        self._confirmed_offset = 0
        self._allowed_updates: frozenset[str] = _DEFAULT_UPDATE_TYPES
        self._poll_generation = 0
        self._chats: dict[int, JSON] = {}
        self._users: dict[int, JSON] = {}
        self._stored: dict[int, dict[int, JSON]] = {}  # chat id -> message id -> message
        self._next_message_id: dict[int, int] = {}
        self._open_callback_queries: set[str] = set()
        self._open_inline_queries: set[str] = set()
        self._query_ids = itertools.count(4_611_686_018_427_388)
        self._files: dict[str, _StoredFile] = {}
        self._file_numbers = itertools.count(1)
        self._injected: list[list[Any]] = []  # [method lower, code, description, params, times]
        self._slow: list[list[Any]] = []  # [method lower, seconds, times]
        self._blocked: dict[int, str] = {}  # chat id -> the 403 description sends get
        self.webhook: JSON = {"url": ""}
        self.commands: dict[tuple[str, str], list[JSON]] = {}  # (scope JSON, language) -> list
        self.descriptions: dict[str, str] = {}  # language -> description
        self.short_descriptions: dict[str, str] = {}
        self._methods: dict[str, tuple[str, Callable[[JSON, JSON], Any]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._ok,
                "close": self._ok,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "setMyDescription": self._set_my_description,
                "getMyDescription": self._get_my_description,
                "setMyShortDescription": self._set_my_short_description,
                "getMyShortDescription": self._get_my_short_description,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "answerInlineQuery": self._answer_inline_query,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "sendChatAction": self._send_chat_action,
                "getFile": self._get_file,
            }.items()
        }

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Listen on a free port of 127.0.0.1 and serve from a background thread."""
        if self._server is not None:
            raise RuntimeError("FakeBotApi is already started")
        server = _Server(("127.0.0.1", 0), _Handler)
        server.api = self
        self._server = server
        self._closing = False
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="FakeBotApi",
        )
        self._thread.start()

    def stop(self) -> None:
        """Wake every long poll, stop serving and free the port."""
        if self._server is None:
            return
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeBotApi:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeBotApi is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """For `ApplicationBuilder().base_url(...)`: PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ------------------------------------------------------------------ what users do

    def user_sends(
        self,
        text: str,
        *,
        chat_id: int | None = None,
        user_id: int = 1001,
        chat_type: str = "private",
        first_name: str = "Alice",
        reply_to_message_id: int | None = None,
        message_thread_id: int | None = None,
        chat_title: str = "Test Group",
        language_code: str | None = "en",
    ) -> JSON:
        """Queue a message update from a user; returns the user's Message dict.

        Commands (`/start`, `/start@BotName`) get `bot_command` entities. A private chat's id
        is the user's id (`chat_id` may be left out); group and supergroup chats need a
        negative `chat_id` (e.g. -1001234567890), like Telegram's.
        """
        if chat_type not in ("private", "group", "supergroup", "channel"):
            raise ValueError(f"unknown chat_type {chat_type!r}")
        if chat_type == "private":
            chat_id = user_id if chat_id is None else chat_id
            if chat_id != user_id:
                raise ValueError("in a private chat, chat_id is the user's id")
        elif chat_id is None or chat_id >= 0:
            raise ValueError(f"a {chat_type} chat needs a negative chat_id, e.g. -1001234567890")
        with self._cond:
            user = self._remember_user(user_id, first_name, language_code)
            if chat_type == "private":
                chat: JSON = {"id": chat_id, "type": "private", "first_name": first_name}
            else:
                chat = {"id": chat_id, "type": chat_type, "title": chat_title}
                if message_thread_id is not None and chat_type == "supergroup":
                    chat["is_forum"] = True
            self._chats[chat_id] = chat
            message: JSON = {
                "message_id": self._new_message_id(chat_id),
                "from": user,
                "chat": chat,
                "date": int(time.time()),
                "text": text,
            }
            entities = [
                {
                    "offset": _utf16_len(text[: m.start()]),
                    "length": _utf16_len(m.group(0)),
                    "type": "bot_command",
                }
                for m in _COMMAND_IN_TEXT_RE.finditer(text)
            ]
            if entities:
                message["entities"] = entities
            if message_thread_id is not None:
                message["message_thread_id"] = message_thread_id
                message["is_topic_message"] = True
            if reply_to_message_id is not None:
                replied = self._stored.get(chat_id, {}).get(reply_to_message_id)
                if replied is None:
                    raise ValueError(f"no message {reply_to_message_id} in chat {chat_id}")
                message["reply_to_message"] = _without_reply(replied)
            self._store(message)
            self._queue({"message": message})
            return copy.deepcopy(message)

    def user_sends_document(
        self,
        data: bytes,
        file_name: str,
        *,
        mime_type: str | None = None,
        user_id: int = 1001,
        first_name: str = "Alice",
        caption: str | None = None,
    ) -> JSON:
        """Queue a private message from a user with a file attached; returns the Message dict.

        The message carries a Document (file_id, file_name, mime_type, file_size) as Telegram
        sends it; `getFile` and the file URL then serve `data`. `mime_type` defaults to what
        the file name says, as clients set it.
        """
        with self._cond:
            user = self._remember_user(user_id, first_name, "en")
            chat: JSON = {"id": user_id, "type": "private", "first_name": first_name}
            self._chats[user_id] = chat
            number = next(self._file_numbers)
            file_id = f"BQACAgdocument{number}"
            stored = _StoredFile(
                "document", data, f"documents/file_{number}", f"AgADdocument{number}"
            )
            stored.payload = {
                "file_id": file_id,
                "file_unique_id": stored.file_unique_id,
                "file_name": file_name,
                "mime_type": mime_type
                or mimetypes.guess_type(file_name)[0]
                or "application/octet-stream",
                "file_size": len(data),
            }
            self._files[file_id] = stored
            message: JSON = {
                "message_id": self._new_message_id(user_id),
                "from": user,
                "chat": chat,
                "date": int(time.time()),
                "document": copy.deepcopy(stored.payload),
            }
            if caption:
                message["caption"] = caption
            self._store(message)
            self._queue({"message": message})
            return copy.deepcopy(message)

    def user_sends_inline_query(
        self,
        query: str,
        *,
        offset: str = "",
        user_id: int = 1001,
        chat_type: str = "sender",
        first_name: str = "Alice",
        language_code: str | None = "en",
    ) -> str:
        """Queue an inline query update; returns its id (for answerInlineQuery)."""
        with self._cond:
            query_id = str(next(self._query_ids))
            self._open_inline_queries.add(query_id)
            self._queue(
                {
                    "inline_query": {
                        "id": query_id,
                        "from": self._remember_user(user_id, first_name, language_code),
                        "query": query,
                        "offset": offset,
                        "chat_type": chat_type,
                    }
                }
            )
            return query_id

    def user_presses_button(
        self, *, chat_id: int, message_id: int, data: str, user_id: int = 1001
    ) -> str:
        """Queue a callback query for a button of a stored bot message; returns its id.

        Raises ValueError when the message has no button with that callback_data, because a
        user can only press buttons that are there.
        """
        with self._cond:
            message = self._stored.get(chat_id, {}).get(message_id)
            if message is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            buttons = [
                button.get("callback_data")
                for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
                for button in row
            ]
            if data not in buttons:
                raise ValueError(
                    f"message {message_id} has no button with callback_data {data!r}; "
                    f"it has {[b for b in buttons if b is not None]}"
                )
            user = self._users.get(user_id) or self._remember_user(user_id, "Alice", "en")
            query_id = str(next(self._query_ids))
            self._open_callback_queries.add(query_id)
            self._queue(
                {
                    "callback_query": {
                        "id": query_id,
                        "from": user,
                        "message": copy.deepcopy(message),
                        "chat_instance": str(-(abs(chat_id) * 7919 + 17)),
                        "data": data,
                    }
                }
            )
            return query_id

    def user_double_taps_button(
        self, *, chat_id: int, message_id: int, data: str, user_id: int = 1001
    ) -> tuple[str, str]:
        """Queue two presses of the same button at once, before the bot can act on either (an
        impatient user, or a client still showing the page); returns both callback query ids."""
        with self._cond:  # no request is served in between
            first = self.user_presses_button(
                chat_id=chat_id, message_id=message_id, data=data, user_id=user_id
            )
            second = self.user_presses_button(
                chat_id=chat_id, message_id=message_id, data=data, user_id=user_id
            )
            return first, second

    def add_user(self, user_id: int, first_name: str = "User") -> None:
        """A user who opened a private chat with the bot earlier (no update queued): the bot
        may write to them, as Telegram allows once a user has started the bot."""
        with self._cond:
            self._remember_user(user_id, first_name, "en")
            self._chats[user_id] = {"id": user_id, "type": "private", "first_name": first_name}

    def block_bot(
        self, user_id: int, description: str = "Forbidden: bot was blocked by the user"
    ) -> None:
        """The user blocks the bot: from now on every request to their chat is answered 403
        with ``description``, as Telegram does (``"Forbidden: user is deactivated"`` for an
        account deleted)."""
        with self._cond:
            self._blocked[user_id] = description

    def push_raw_update(self, update: JSON) -> int:
        """Queue any Update dict (an update_id is assigned when missing); returns the update_id."""
        with self._cond:
            return self._queue(copy.deepcopy(update))

    def inject_error(
        self,
        method: str,
        code: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail, e.g. 403 "Forbidden: bot was blocked
        by the user" or 429 "Too Many Requests: retry after 1" with `retry_after=1`."""
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        with self._cond:
            self._injected.append([method.lower(), code, description, parameters, times])

    def slow_response(self, method: str, seconds: float, times: int = 1) -> None:
        """Make the next `times` calls of `method` take effect at once but get their response
        `seconds` late (the request reached Telegram; its answer is slow to come back)."""
        with self._cond:
            self._slow.append([method.lower(), seconds, times])

    def _take_slow(self, method: str) -> float:
        for entry in self._slow:
            if entry[0] == method.lower() and entry[2] > 0:
                entry[2] -= 1
                return float(entry[1])
        return 0.0

    def fail_next(self, method: str, times: int = 1, code: int = 502) -> None:
        """Make the next `times` calls of `method` fail with a server error (default 502 Bad
        Gateway, which PTB raises as NetworkError), as Telegram does when it is overloaded."""
        self.inject_error(method, code, HTTPStatus(code).phrase, times=times)

    # ------------------------------------------------------------------ what the bot did

    def pending_updates(self) -> list[JSON]:
        """Copies of the updates not yet confirmed by a getUpdates offset, oldest first."""
        with self._cond:
            return copy.deepcopy(self._updates)

    @property
    def confirmed_offset(self) -> int:
        """The highest getUpdates offset received: updates below it are confirmed (forgotten)."""
        with self._cond:
            return self._confirmed_offset

    @property
    def calls(self) -> list[Call]:
        """A snapshot of every request handled so far, in order (failed ones too)."""
        with self._cond:
            return list(self._calls)

    @property
    def request_log(self) -> list[str]:
        """Raw "METHOD /path" of every HTTP request received."""
        with self._cond:
            return list(self._request_log)

    def calls_to(self, method: str) -> list[Call]:
        """Successful calls of one method, in order."""
        with self._cond:
            return [c for c in self._calls if c.method == method and c.ok]

    def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 15.0,
        after: int = 0,
        *,
        include_failed: bool = False,
    ) -> Call:
        """The first successful call of `method` with index >= `after` that `predicate` accepts.

        A call the server rejected does not match unless `include_failed` (a message
        Telegram refused never reached the user), but it shows in the timeout summary.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for call in self._calls[after:]:
                    if (
                        call.method == method
                        and (call.ok or include_failed)
                        and (predicate is None or predicate(call))
                    ):
                        return call
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"no matching {method} call within {timeout}s\n{self._summary()}"
                    )
                self._cond.wait(remaining)

    def messages(self, chat_id: int) -> list[JSON]:
        """Current state (edits applied, deletions gone) of the bot's messages in a chat."""
        with self._cond:
            return [
                copy.deepcopy(m)
                for _, m in sorted(self._stored.get(chat_id, {}).items())
                if m["from"]["id"] == self.bot_id
            ]

    def message(self, chat_id: int, message_id: int) -> JSON:
        """One stored message (bot's or user's); KeyError when it does not exist (any more)."""
        with self._cond:
            return copy.deepcopy(self._stored[chat_id][message_id])

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes behind a file_id the bot uploaded."""
        with self._cond:
            return self._files[file_id].data

    def _summary(self) -> str:
        polls = [c for c in self._calls if c.method == "getUpdates"]
        failed_polls = sum(1 for c in polls if not c.ok)
        lines = [
            f"  #{index} {call.brief()}"
            for index, call in enumerate(self._calls)
            if call.method != "getUpdates"
        ][-20:]
        header = (
            f"calls ({len(polls)} getUpdates not shown, {failed_polls} of them failed; "
            f"{len(self._updates)} updates not yet confirmed):"
        )
        return "\n".join([header, *(lines or ["  (none)"])])

    # ------------------------------------------------------------------ state helpers

    def _remember_user(self, user_id: int, first_name: str, language_code: str | None) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        self._users[user_id] = user
        return user

    def _new_message_id(self, chat_id: int) -> int:
        self._next_message_id[chat_id] = self._next_message_id.get(chat_id, 0) + 1
        return self._next_message_id[chat_id]

    def _store(self, message: JSON) -> None:
        self._stored.setdefault(message["chat"]["id"], {})[message["message_id"]] = message

    def _queue(self, update: JSON) -> int:
        update_id = update.get("update_id")
        if not isinstance(update_id, int):
            update_id = self._next_update_id
            update = {"update_id": update_id, **update}
        self._next_update_id = max(self._next_update_id, update_id + 1)
        self._updates.append(update)
        self._cond.notify_all()
        return update_id

    def _chat(self, params: JSON) -> JSON:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for chat in self._chats.values():
                if chat.get("username") == chat_id[1:]:
                    return chat
            raise _bad("chat not found")
        if not isinstance(chat_id, int) or chat_id not in self._chats:
            raise _bad("chat not found")
        blocked = self._blocked.get(chat_id)
        if blocked is not None:
            raise ApiError(403, blocked)
        return self._chats[chat_id]

    def _stored_message(self, params: JSON, missing: str) -> JSON:
        chat = self._chat(params)
        message_id = params.get("message_id")
        message = self._stored.get(chat["id"], {}).get(
            message_id if isinstance(message_id, int) else 0
        )
        if message is None:
            raise _bad(missing)
        return message

    def _formatted(self, text: Any, params: JSON, *, caption: bool) -> tuple[str, list[JSON]]:
        """Apply parse_mode/entities and Telegram's limits to a text or caption."""
        if text is None:
            text = ""
        if not isinstance(text, str):
            text = str(text)
        entities_key = "caption_entities" if caption else "entities"
        parse_mode = str(params.get("parse_mode") or "")
        if parse_mode.lower() == "html":
            plain, entities = parse_html(text)
        elif parse_mode.lower() in ("", "markdown", "markdownv2"):
            # Markdown is passed through unparsed: this project formats in HTML.
            plain = text.strip()
            given = params.get(entities_key) or []
            entities = json.loads(given) if isinstance(given, str) else list(given)
        else:
            raise _bad(f"unsupported parse_mode {parse_mode!r}")
        limit = MAX_CAPTION_LENGTH if caption else MAX_TEXT_LENGTH
        if len(plain) > limit:
            raise _bad("message caption is too long" if caption else "message is too long")
        if not plain and not caption:
            raise _bad("message text is empty")
        return plain, entities

    def _new_bot_message(self, chat: JSON, params: JSON) -> JSON:
        message: JSON = {
            "message_id": self._new_message_id(chat["id"]),
            "from": dict(self.bot_user),
            "chat": dict(chat),
            "date": int(time.time()),
        }
        if params.get("message_thread_id") is not None:
            message["message_thread_id"] = params["message_thread_id"]
            message["is_topic_message"] = True
        reply = params.get("reply_parameters")
        if isinstance(reply, str):
            reply = json.loads(reply)
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
        if reply:
            replied_id = reply.get("message_id")
            replied = self._stored.get(chat["id"], {}).get(
                replied_id if isinstance(replied_id, int) else 0
            )
            if replied is not None:
                message["reply_to_message"] = _without_reply(replied)
            elif not reply.get("allow_sending_without_reply"):
                raise _bad("message to be replied not found")
        return message

    # ------------------------------------------------------------------ HTTP

    def _serve(self, handler: _Handler) -> None:
        received = time.monotonic()
        with self._cond:
            self._request_log.append(f"{handler.command} {handler.path}")
        try:
            body = _read_body(handler)
        except (OSError, ValueError):
            handler.close_connection = True
            return
        path = urlsplit(handler.path)
        if self._closing:
            handler.close_connection = True
            self._respond(
                handler, 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
            )
            return
        if path.path.startswith("/file/bot"):
            # PTB percent-encodes the file URL, so the token's ":" arrives as "%3A".
            self._serve_file(handler, unquote(path.path.removeprefix("/file/bot")))
            return
        if not path.path.startswith("/bot"):
            self._respond(handler, 404, _error_envelope(ApiError(404, "Not Found")))
            return
        token, _, method = unquote(path.path.removeprefix("/bot")).partition("/")
        if token != self.token:
            # Telegram answers 401 to a well-formed token it does not know, 404 to a malformed one.
            error = (
                ApiError(401, "Unauthorized")
                if _TOKEN_SHAPE_RE.match(token)
                else ApiError(404, "Not Found")
            )
            self._respond(handler, error.code, _error_envelope(error))
            return
        status, envelope = self._dispatch(handler, method, path.query, body, received)
        with self._cond:
            delay = self._take_slow(method)
        if delay:
            time.sleep(delay)  # acted on, answered late: a slow network on the way back
        self._respond(handler, status, envelope)

    def _dispatch(
        self, handler: _Handler, method: str, query: str, body: bytes, received: float
    ) -> tuple[int, JSON]:
        name = method
        params: JSON = {}
        files: JSON = {}
        try:
            params, files = self._params(handler, query, body)
            with self._cond:
                known = self._methods.get(method.lower())
                if known is None:
                    self._record(
                        Call(
                            method,
                            params,
                            {},
                            received,
                            False,
                            "Not Found (not implemented by FakeBotApi)",
                        )
                    )
                    return 404, _error_envelope(ApiError(404, "Not Found"))
                name, implementation = known
                self._raise_injected(name)
                result = implementation(params, files)
                self._record(Call(name, params, _file_bytes(files), received, True, None, result))
                return 200, {"ok": True, "result": result}
        except ApiError as error:
            with self._cond:
                self._record(
                    Call(name, params, _file_bytes(files), received, False, error.description)
                )
            return error.code, _error_envelope(error)
        except Exception as exc:  # a bug in the fake: answer 500 so the test sees it
            crash = ApiError(500, f"Internal Server Error: FakeBotApi failed with {exc!r}")
            with self._cond:
                self._record(
                    Call(name, params, _file_bytes(files), received, False, crash.description)
                )
            return crash.code, _error_envelope(crash)

    def _params(self, handler: _Handler, query: str, body: bytes) -> tuple[JSON, JSON]:
        params: JSON = {k: _decode_form_value(k, v) for k, v in parse_qsl(query, True)}
        files: JSON = {}
        content_type = handler.headers.get("Content-Type", "")
        kind = content_type.split(";")[0].strip().lower()
        if kind == "application/json" and body:
            try:
                decoded = json.loads(body)
            except ValueError as exc:
                raise _bad("can't parse JSON object") from exc
            if not isinstance(decoded, dict):
                raise _bad("JSON object expected")
            params.update(decoded)
        elif kind == "application/x-www-form-urlencoded":
            form = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            params.update({k: _decode_form_value(k, v) for k, v in form})
        elif kind == "multipart/form-data":
            fields, files = _parse_multipart(content_type, body)
            params.update({k: _decode_form_value(k, v) for k, v in fields})
        return _coerce(params), files

    def _record(self, call: Call) -> None:
        self._calls.append(call)
        self._cond.notify_all()

    def _raise_injected(self, method: str) -> None:
        for entry in self._injected:
            if entry[0] == method.lower() and entry[4] > 0:
                entry[4] -= 1
                raise ApiError(entry[1], entry[2], entry[3])

    def _respond(self, handler: _Handler, status: int, envelope: JSON) -> None:
        payload = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:
            handler.close_connection = True  # the client gave up (a cancelled long poll)

    def _serve_file(self, handler: _Handler, rest: str) -> None:
        token, _, file_path = rest.partition("/")
        with self._cond:
            found = next((f for f in self._files.values() if f.file_path == file_path), None)
        if token != self.token or found is None:
            self._respond(handler, 404, _error_envelope(ApiError(404, "Not Found")))
            return
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/octet-stream")
            handler.send_header("Content-Length", str(len(found.data)))
            handler.end_headers()
            handler.wfile.write(found.data)
        except OSError:
            handler.close_connection = True

    # ------------------------------------------------------------------ methods

    def _ok(self, params: JSON, files: JSON) -> bool:
        return True

    def _get_me(self, params: JSON, files: JSON) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _get_updates(self, params: JSON, files: JSON) -> list[JSON]:
        if self.webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) or _DEFAULT_UPDATE_TYPES
        # A newer getUpdates ends an older one, as on the real server.
        self._poll_generation += 1
        generation = self._poll_generation
        self._cond.notify_all()
        if isinstance(offset, int):
            if offset < 0:
                self._updates = self._updates[offset:]
            else:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                self._confirmed_offset = max(self._confirmed_offset, offset)
        deadline = time.monotonic() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            # Updates of types the bot did not ask for are never delivered.
            self._updates = [u for u in self._updates if _update_type(u) in self._allowed_updates]
            remaining = deadline - time.monotonic()
            if self._updates or remaining <= 0 or self._closing:
                return copy.deepcopy(self._updates[:limit])
            self._cond.wait(remaining)

    def _set_webhook(self, params: JSON, files: JSON) -> bool:
        url = str(params.get("url") or "")
        if url:
            parts = urlsplit(url)
            if parts.scheme != "https":
                raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
            if parts.port not in (None, 80, 88, 443, 8443):
                raise _bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad("bad webhook: Secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {k: v for k, v in params.items() if k != "certificate"}
        self.webhook["url"] = url
        return True

    def _delete_webhook(self, params: JSON, files: JSON) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {"url": ""}
        return True

    def _get_webhook_info(self, params: JSON, files: JSON) -> JSON:
        info: JSON = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if info["url"]:
            info["max_connections"] = self.webhook.get("max_connections", 40)
            if "allowed_updates" in self.webhook:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    @staticmethod
    def _commands_key(params: JSON) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _set_my_commands(self, params: JSON, files: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("commands must be an array of at most 100 BotCommand")
        for command in commands:
            if not isinstance(command, dict) or not _BOT_COMMAND_RE.match(
                str(command.get("command", ""))
            ):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = commands
        return True

    def _get_my_commands(self, params: JSON, files: JSON) -> list[JSON]:
        return copy.deepcopy(self.commands.get(self._commands_key(params), []))

    def _delete_my_commands(self, params: JSON, files: JSON) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _set_my_description(self, params: JSON, files: JSON) -> bool:
        description = str(params.get("description") or "")
        if len(description) > 512:
            raise _bad("description is too long")
        self.descriptions[str(params.get("language_code") or "")] = description
        return True

    def _get_my_description(self, params: JSON, files: JSON) -> JSON:
        language = str(params.get("language_code") or "")
        return {"description": self.descriptions.get(language, self.descriptions.get("", ""))}

    def _set_my_short_description(self, params: JSON, files: JSON) -> bool:
        description = str(params.get("short_description") or "")
        if len(description) > 120:
            raise _bad("short description is too long")
        self.short_descriptions[str(params.get("language_code") or "")] = description
        return True

    def _get_my_short_description(self, params: JSON, files: JSON) -> JSON:
        language = str(params.get("language_code") or "")
        short = self.short_descriptions.get(language, self.short_descriptions.get("", ""))
        return {"short_description": short}

    def _send_message(self, params: JSON, files: JSON) -> JSON:
        chat = self._chat(params)
        text, entities = self._formatted(params.get("text"), params, caption=False)
        markup = _reply_markup_json(params.get("reply_markup"))
        _validate_reply_markup(markup)
        message = self._new_bot_message(chat, params)
        message["text"] = text
        if entities:
            message["entities"] = entities
        _attach_inline_keyboard(message, markup)
        self._store(message)
        return copy.deepcopy(message)

    def _edit_target(self, params: JSON) -> JSON | None:
        """The stored message an edit is about, or None for an inline message."""
        if params.get("inline_message_id"):
            return None
        if params.get("message_id") is None:
            raise _bad("message identifier is not specified")
        message = self._stored_message(params, "message to edit not found")
        if message["from"]["id"] != self.bot_id:
            raise _bad("message can't be edited")
        return message

    def _finish_edit(self, message: JSON, changed: JSON, markup: JSON | None) -> JSON:
        _validate_reply_markup(markup)
        updated = {k: v for k, v in message.items() if k not in changed}
        updated.update({k: v for k, v in changed.items() if v})
        # Telegram drops the inline keyboard when an edit does not repeat it.
        updated.pop("reply_markup", None)
        updated.pop("edit_date", None)
        _attach_inline_keyboard(updated, markup)
        before = {k: v for k, v in message.items() if k != "edit_date"}
        if updated == before:
            raise ApiError(400, _NOT_MODIFIED)
        updated["edit_date"] = int(time.time())
        self._store(updated)
        return copy.deepcopy(updated)

    def _edit_message_text(self, params: JSON, files: JSON) -> JSON | bool:
        text, entities = self._formatted(params.get("text"), params, caption=False)
        markup = _reply_markup_json(params.get("reply_markup"))
        message = self._edit_target(params)
        if message is None:
            _validate_reply_markup(markup)
            return True
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        return self._finish_edit(message, {"text": text, "entities": entities}, markup)

    def _edit_message_caption(self, params: JSON, files: JSON) -> JSON | bool:
        caption, entities = self._formatted(params.get("caption"), params, caption=True)
        markup = _reply_markup_json(params.get("reply_markup"))
        message = self._edit_target(params)
        if message is None:
            _validate_reply_markup(markup)
            return True
        if "text" in message:
            raise _bad("there is no caption in the message to edit")
        return self._finish_edit(
            message, {"caption": caption, "caption_entities": entities}, markup
        )

    def _edit_message_reply_markup(self, params: JSON, files: JSON) -> JSON | bool:
        markup = _reply_markup_json(params.get("reply_markup"))
        message = self._edit_target(params)
        if message is None:
            _validate_reply_markup(markup)
            return True
        return self._finish_edit(message, {}, markup)

    def _delete_message(self, params: JSON, files: JSON) -> bool:
        message = self._stored_message(params, "message to delete not found")
        del self._stored[message["chat"]["id"]][message["message_id"]]
        return True

    def _answer_callback_query(self, params: JSON, files: JSON) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_callback_queries:
            raise _bad(_QUERY_ID_INVALID.removeprefix("Bad Request: "))
        if len(str(params.get("text") or "")) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        self._open_callback_queries.discard(query_id)
        return True

    def _answer_inline_query(self, params: JSON, files: JSON) -> bool:
        query_id = str(params.get("inline_query_id") or "")
        if query_id not in self._open_inline_queries:
            raise _bad(_QUERY_ID_INVALID.removeprefix("Bad Request: "))
        results = params.get("results")
        if isinstance(results, str):
            results = json.loads(results)
        if not isinstance(results, list):
            raise _bad("results must be an array of InlineQueryResult")
        if len(results) > MAX_INLINE_RESULTS:
            raise _bad("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            if not isinstance(result, dict) or result.get("type") not in _INLINE_RESULT_TYPES:
                raise _bad("RESULT_TYPE_INVALID")
            result_id = str(result.get("id", ""))
            if not 1 <= len(result_id.encode("utf-8")) <= MAX_INLINE_RESULT_ID_BYTES:
                raise _bad("RESULT_ID_INVALID")
            if result_id in seen:
                raise _bad("RESULT_ID_DUPLICATE")
            seen.add(result_id)
            content = result.get("input_message_content")
            if isinstance(content, dict) and "message_text" in content:
                self._formatted(content["message_text"], content, caption=False)
            elif result.get("type") == "article":
                raise _bad("MESSAGE_EMPTY")
            _validate_reply_markup(result.get("reply_markup"))
        if len(str(params.get("next_offset") or "").encode("utf-8")) > MAX_NEXT_OFFSET_BYTES:
            raise _bad("NEXT_OFFSET_INVALID")
        button = params.get("button")
        if button is not None:
            # InlineQueryResultsButton: a text and exactly one of web_app or start_parameter.
            if not isinstance(button, dict) or not str(button.get("text") or "").strip():
                raise _bad("BUTTON_TEXT_INVALID")
            if ("web_app" in button) == ("start_parameter" in button):
                raise _bad("BUTTON_TYPE_INVALID")
            start = button.get("start_parameter")
            if start is not None and not _START_PARAMETER_RE.match(str(start)):
                raise _bad("START_PARAM_INVALID")
        self._open_inline_queries.discard(query_id)
        return True

    def _send_chat_action(self, params: JSON, files: JSON) -> bool:
        self._chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _upload(self, params: JSON, files: JSON, name: str) -> tuple[JSON | None, str | None]:
        """The uploaded part for parameter `name` (direct or attach://), or the file_id/URL."""
        value = params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            part = files.get(value.removeprefix("attach://"))
            if part is None:
                raise _bad(f"wrong remote file identifier specified: can't find {value}")
            return part, None
        if name in files:
            return files[name], None
        if not value:
            raise _bad(f"there is no {name} in the request")
        return None, str(value)

    def _reuse(self, reference: str, kind: str) -> _StoredFile:
        if re.match(r"^https?://", reference):
            # The fake has no internet; Telegram answers this when it cannot fetch the URL.
            raise _bad("failed to get HTTP URL content")
        stored = self._files.get(reference)
        if stored is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise _bad("type of file mismatch")
        return stored

    def _send_photo(self, params: JSON, files: JSON) -> JSON:
        chat = self._chat(params)
        caption, entities = self._formatted(params.get("caption"), params, caption=True)
        markup = _reply_markup_json(params.get("reply_markup"))
        _validate_reply_markup(markup)
        part, reference = self._upload(params, files, "photo")
        if part is not None:
            stored = self._store_photo(part["data"])
        else:
            stored = self._reuse(str(reference), "photo")
        message = self._new_bot_message(chat, params)
        message["photo"] = copy.deepcopy(stored.payload)
        if caption:
            message["caption"] = caption
            if entities:
                message["caption_entities"] = entities
        _attach_inline_keyboard(message, markup)
        self._store(message)
        return copy.deepcopy(message)

    def _store_photo(self, data: bytes) -> _StoredFile:
        if len(data) > MAX_PHOTO_BYTES:
            raise _bad("PHOTO_SAVE_FILE_INVALID")
        size = image_size(data)
        if size is None:
            raise _bad("IMAGE_PROCESS_FAILED")
        width, height = size
        if (
            width < 1
            or height < 1
            or width + height > 10000
            or max(width, height) > 20 * min(width, height)
        ):
            raise _bad("PHOTO_INVALID_DIMENSIONS")
        number = next(self._file_numbers)
        longest = max(width, height)
        # Telegram keeps thumbnails of 90, 320 and 800 px and a largest copy of at most 1280 px.
        targets = [t for t in (90, 320, 800) if t < longest] + [min(longest, 1280)]
        stored = _StoredFile("photo", data, f"photos/file_{number}.jpg", f"AQADphoto{number}")
        sizes: list[JSON] = []
        for index, target in enumerate(targets):
            scale = target / longest
            file_id = f"AgACAgphoto{number}x{index}"
            size_dict: JSON = {
                "file_id": file_id,
                "file_unique_id": f"AQADphoto{number}x{index}",
                "width": max(1, round(width * scale)),
                "height": max(1, round(height * scale)),
            }
            if index == len(targets) - 1:
                size_dict["file_size"] = len(data)
            sizes.append(size_dict)
            self._files[file_id] = stored
        stored.payload = sizes
        return stored

    def _send_document(self, params: JSON, files: JSON) -> JSON:
        chat = self._chat(params)
        caption, entities = self._formatted(params.get("caption"), params, caption=True)
        markup = _reply_markup_json(params.get("reply_markup"))
        _validate_reply_markup(markup)
        part, reference = self._upload(params, files, "document")
        if part is not None:
            number = next(self._file_numbers)
            filename = part["filename"]
            mime = mimetypes.guess_type(filename)[0] or part["mime_type"]
            file_id = f"BQACAgdocument{number}"
            stored = _StoredFile(
                "document", part["data"], f"documents/file_{number}", f"AgADdocument{number}"
            )
            stored.payload = {
                "file_id": file_id,
                "file_unique_id": stored.file_unique_id,
                "file_name": filename,
                "mime_type": mime,
                "file_size": len(part["data"]),
            }
            self._files[file_id] = stored
        else:
            stored = self._reuse(str(reference), "document")
        message = self._new_bot_message(chat, params)
        message["document"] = copy.deepcopy(stored.payload)
        if caption:
            message["caption"] = caption
            if entities:
                message["caption_entities"] = entities
        _attach_inline_keyboard(message, markup)
        self._store(message)
        return copy.deepcopy(message)

    def _get_file(self, params: JSON, files: JSON) -> JSON:
        file_id = str(params.get("file_id") or "")
        stored = self._files.get(file_id)
        if stored is None:
            raise _bad("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise _bad("file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }


def _attach_inline_keyboard(message: JSON, markup: JSON | None) -> None:
    # A Message carries only inline keyboards; reply keyboards stay with the client.
    if markup is not None and "inline_keyboard" in markup:
        message["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}


def _without_reply(message: JSON) -> JSON:
    return {k: copy.deepcopy(v) for k, v in message.items() if k != "reply_to_message"}


def _update_type(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


def _file_bytes(files: JSON) -> dict[str, bytes]:
    return {name: part["data"] for name, part in files.items()}


def _error_envelope(error: ApiError) -> JSON:
    envelope: JSON = {"ok": False, "error_code": error.code, "description": error.description}
    if error.parameters:
        envelope["parameters"] = error.parameters
    return envelope


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    """A started FakeBotApi, stopped after the test."""
    with FakeBotApi() as api:
        yield api
