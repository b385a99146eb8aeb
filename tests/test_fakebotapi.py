"""The local Bot API server speaks the real protocol: PTB's own `Bot` and `Application` drive it."""

from __future__ import annotations

import asyncio
import struct
import threading
import time
import zlib

import httpx
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
)

from tests.fakebotapi import FakeBotApi, fake_api, image_size, parse_html

# Listing the fixture here keeps its import "used" (ruff) and this module runnable on its own;
# with `fake_api` re-exported from tests/conftest.py, this import and line can go.
__all__ = ["fake_api"]


def make_bot(api: FakeBotApi, token: str | None = None) -> Bot:
    return Bot(
        token or api.token,
        base_url=api.base_url,
        base_file_url=api.base_file_url,
    )


def tiny_png(width: int, height: int) -> bytes:
    """A valid grey PNG, built by hand so the test needs no imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


def test_get_me_parses_into_a_bot_user(fake_api: FakeBotApi) -> None:
    async def scenario() -> None:
        async with make_bot(fake_api) as bot:  # initialize() calls getMe
            me = await bot.get_me()
            assert me.is_bot
            assert me.username == "ReactionsTestBot"
            assert me.supports_inline_queries
            assert me.can_read_all_group_messages is False
            assert bot.username == "ReactionsTestBot"

    asyncio.run(scenario())
    assert fake_api.calls_to("getMe")


def test_wrong_token_is_invalid_token_and_raw_envelopes_match_telegram(
    fake_api: FakeBotApi,
) -> None:
    async def scenario() -> None:
        with pytest.raises(InvalidToken):
            async with make_bot(fake_api, token="999:wrong-token"):
                pass

    asyncio.run(scenario())
    root = fake_api.base_url
    wrong = httpx.post(f"{root}999:wrong-token/getMe")
    assert wrong.status_code == 401
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    unknown = httpx.post(f"{root}{fake_api.token}/noSuchMethod")
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    me = httpx.post(f"{root}{fake_api.token}/getMe", json={}).json()
    assert me["ok"] is True and me["result"]["is_bot"] is True
    assert all(line.split()[0] in ("GET", "POST") for line in fake_api.request_log)


def test_send_then_edit_a_message_with_a_keyboard(fake_api: FakeBotApi) -> None:
    fake_api.user_sends("hello")  # the chat exists once the user wrote to the bot
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more:1")]])

    async def scenario() -> tuple[Message, Message | bool]:
        async with make_bot(fake_api) as bot:
            sent = await bot.send_message(
                1001, "<b>Bold</b> &amp; plain", parse_mode=ParseMode.HTML, reply_markup=keyboard
            )
            edited = await bot.edit_message_text(
                "edited <i>text</i>", chat_id=1001, message_id=sent.message_id, parse_mode="HTML"
            )
            with pytest.raises(BadRequest, match="not modified"):
                await bot.edit_message_text(
                    "edited <i>text</i>",
                    chat_id=1001,
                    message_id=sent.message_id,
                    parse_mode="HTML",
                )
            return sent, edited

    sent, edited = asyncio.run(scenario())
    assert sent.text == "Bold & plain"
    assert sent.text_html == "<b>Bold</b> &amp; plain"
    assert sent.from_user is not None and sent.from_user.is_bot
    assert sent.message_id == 2  # the user's "hello" was 1
    assert isinstance(edited, Message) and edited.text == "edited text"
    stored = fake_api.message(1001, sent.message_id)
    assert stored["text"] == "edited text"
    assert stored["entities"] == [{"offset": 7, "length": 4, "type": "italic"}]
    assert "reply_markup" not in stored  # an edit without the keyboard drops it, like Telegram
    assert [m["message_id"] for m in fake_api.messages(1001)] == [2]
    call = fake_api.calls_to("sendMessage")[0]
    # PTB sends form data; the server decodes the JSON-encoded values.
    assert call.params["chat_id"] == 1001
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "more:1"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<b>unclosed", "Can't find end tag"),
        ("<foo>x</foo>", 'Unsupported start tag "foo"'),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ("x</b>", "Unexpected end tag"),
        ("1 < 2", 'Unsupported start tag ""'),
        ("Tom & Jerry", 'bare "&"'),
        ('<span class="x">s</span>', 'must have class "tg-spoiler"'),
    ],
)
def test_html_the_real_server_rejects_is_a_bad_request(
    fake_api: FakeBotApi, text: str, reason: str
) -> None:
    fake_api.user_sends("hi")

    async def scenario() -> None:
        async with make_bot(fake_api) as bot:
            with pytest.raises(BadRequest, match="an't parse entities"):
                await bot.send_message(1001, text, parse_mode="HTML")

    asyncio.run(scenario())
    failed = fake_api.calls[-1]
    assert not failed.ok and failed.error is not None and reason in failed.error
    assert fake_api.messages(1001) == []


def test_limits_are_bad_requests(fake_api: FakeBotApi) -> None:
    fake_api.user_sends("hi")

    async def scenario() -> None:
        async with make_bot(fake_api) as bot:
            with pytest.raises(BadRequest, match="too long"):
                await bot.send_message(1001, "x" * 4097)
            await bot.send_message(1001, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
            with pytest.raises(BadRequest, match="empty"):
                await bot.send_message(1001, "   ")
            too_long_data = InlineKeyboardButton("b", callback_data="é" * 33)  # 66 bytes
            with pytest.raises(BadRequest, match="Button_data_invalid"):
                await bot.send_message(
                    1001, "x", reply_markup=InlineKeyboardMarkup([[too_long_data]])
                )
            with pytest.raises(BadRequest, match="Chat not found"):
                await bot.send_message(4242, "nobody started me")

    asyncio.run(scenario())
    assert len(fake_api.messages(1001)) == 1


def test_parse_html_counts_offsets_in_utf16_and_strips_whitespace() -> None:
    text, entities = parse_html(
        ' 😀 <b>bold</b> <a href="https://t.me/x?a=1&amp;b=2">link</a> '
        '<pre><code class="language-python">x = 1</code></pre>\n'
    )
    assert text == "😀 bold link x = 1"
    assert entities == [
        {"offset": 3, "length": 4, "type": "bold"},
        {"offset": 8, "length": 4, "type": "text_link", "url": "https://t.me/x?a=1&b=2"},
        {"offset": 13, "length": 5, "type": "pre", "language": "python"},
    ]


def test_get_updates_long_polls_and_confirms_by_offset(fake_api: FakeBotApi) -> None:
    threading.Timer(0.2, fake_api.user_sends, args=("ping",)).start()

    async def scenario() -> None:
        async with make_bot(fake_api) as bot:
            started = time.monotonic()
            updates = await bot.get_updates(timeout=5)
            assert time.monotonic() - started < 4  # woken by the update, not the timeout
            assert [u.message.text for u in updates if u.message] == ["ping"]
            again = await bot.get_updates(timeout=0)
            assert [u.update_id for u in again] == [updates[0].update_id]  # not confirmed yet
            assert fake_api.confirmed_offset == 0
            assert [u["update_id"] for u in fake_api.pending_updates()] == [updates[0].update_id]
            assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
            assert fake_api.confirmed_offset == updates[-1].update_id + 1
            assert fake_api.pending_updates() == []

    asyncio.run(scenario())


def test_fail_next_fails_that_many_calls_with_a_5xx(fake_api: FakeBotApi) -> None:
    fake_api.user_sends("hi")
    fake_api.fail_next("sendMessage", times=2)
    fake_api.fail_next("editMessageText", code=500)

    async def scenario() -> None:
        async with make_bot(fake_api) as bot:
            for _ in range(2):
                with pytest.raises(NetworkError, match="Bad Gateway"):
                    await bot.send_message(1001, "one")
            sent = await bot.send_message(1001, "two")  # the third call goes through
            with pytest.raises(NetworkError, match="Internal Server Error"):
                await bot.edit_message_text("three", chat_id=1001, message_id=sent.message_id)
            await bot.edit_message_text("three", chat_id=1001, message_id=sent.message_id)

    asyncio.run(scenario())
    sends = [c for c in fake_api.calls if c.method == "sendMessage"]
    assert [(c.ok, c.error) for c in sends] == [
        (False, "Bad Gateway"),
        (False, "Bad Gateway"),
        (True, None),
    ]
    assert fake_api.message(1001, sends[-1].result["message_id"])["text"] == "three"
    raw = httpx.post(f"{fake_api.base_url}{fake_api.token}/getMe")
    assert raw.status_code == 200
    fake_api.fail_next("getMe", code=503)
    raw = httpx.post(f"{fake_api.base_url}{fake_api.token}/getMe")
    assert raw.status_code == 503
    assert raw.json() == {"ok": False, "error_code": 503, "description": "Service Unavailable"}


def test_an_inline_query_answered_in_two_pages(fake_api: FakeBotApi) -> None:
    articles = [
        InlineQueryResultArticle(
            f"r{i}", f"Result {i}", InputTextMessageContent(f"<b>{i}</b>", "HTML")
        )
        for i in range(60)
    ]

    async def scenario() -> None:
        async with make_bot(fake_api) as bot:
            first = fake_api.user_sends_inline_query("macron")
            with pytest.raises(BadRequest, match="Results_too_much"):
                await bot.answer_inline_query(first, articles)
            await bot.answer_inline_query(first, articles[:50], next_offset="50", cache_time=5)
            with pytest.raises(BadRequest, match="query id is invalid"):
                await bot.answer_inline_query(first, articles[:1])  # answered already
            second = fake_api.user_sends_inline_query("macron", offset="50")
            await bot.answer_inline_query(second, articles[50:], next_offset="", cache_time=5)
            updates = await bot.get_updates()
            assert [u.inline_query.offset for u in updates if u.inline_query] == ["", "50"]

    asyncio.run(scenario())
    pages = fake_api.calls_to("answerInlineQuery")
    assert [len(c.params["results"]) for c in pages] == [50, 10]
    assert pages[0].params["next_offset"] == "50" and pages[0].params["cache_time"] == 5
    assert pages[1].params["results"][0]["id"] == "r50"


def test_an_inline_answer_may_carry_a_start_button(fake_api: FakeBotApi) -> None:
    async def scenario() -> None:
        async with make_bot(fake_api) as bot:
            query = fake_api.user_sends_inline_query("macron")
            bad = InlineQueryResultsButton("Slow down", start_parameter="not valid!")
            with pytest.raises(BadRequest, match="Start_param_invalid"):
                await bot.answer_inline_query(query, [], button=bad)
            ok = InlineQueryResultsButton("Slow down", start_parameter="inline")
            await bot.answer_inline_query(query, [], button=ok, cache_time=0, is_personal=True)

    asyncio.run(scenario())
    [answer] = fake_api.calls_to("answerInlineQuery")
    assert answer.params["button"] == {"text": "Slow down", "start_parameter": "inline"}
    assert answer.params["results"] == []


def test_send_photo_uploads_bytes_and_they_download_again(fake_api: FakeBotApi) -> None:
    fake_api.user_sends("chart please")
    png = tiny_png(400, 200)
    assert image_size(png) == (400, 200)

    async def scenario() -> tuple[Message, bytes]:
        async with make_bot(fake_api) as bot:
            sent = await bot.send_photo(1001, png, caption="<i>chart</i>", parse_mode="HTML")
            with pytest.raises(BadRequest, match="Image_process_failed"):
                await bot.send_photo(1001, b"not an image")
            again = await bot.send_photo(1001, sent.photo[-1].file_id)
            assert again.photo == sent.photo
            file = await bot.get_file(sent.photo[-1].file_id)
            return sent, bytes(await file.download_as_bytearray())

    sent, downloaded = asyncio.run(scenario())
    assert sent.caption == "chart"
    assert (sent.photo[-1].width, sent.photo[-1].height) == (400, 200)
    assert downloaded == png
    assert fake_api.calls_to("sendPhoto")[0].files["photo"] == png


def test_a_document_a_user_sends_arrives_with_a_file_id_and_downloads(
    fake_api: FakeBotApi,
) -> None:
    sent = fake_api.user_sends_document(b"Title\nNovember 06, 2024\n", "compilation.txt")
    assert sent["document"]["mime_type"] == "text/plain" and sent["document"]["file_size"] == 24
    big = fake_api.user_sends_document(b"x" * (20 * 1024 * 1024 + 1), "huge.html")

    async def scenario() -> tuple[Update, bytes]:
        async with make_bot(fake_api) as bot:
            [update, _] = await bot.get_updates(timeout=0)
            assert update.message is not None and update.message.document is not None
            file = await bot.get_file(update.message.document.file_id)
            with pytest.raises(BadRequest, match="too big"):
                await bot.get_file(big["document"]["file_id"])
            return update, bytes(await file.download_as_bytearray())

    update, downloaded = asyncio.run(scenario())
    assert update.message.document.file_name == "compilation.txt"  # type: ignore[union-attr]
    assert downloaded == b"Title\nNovember 06, 2024\n"


def test_a_real_application_answers_start_and_a_button(fake_api: FakeBotApi) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Next", callback_data="page:2")]])
        await update.effective_message.reply_text("<b>Welcome</b>", reply_markup=keyboard)

    async def next_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"page {query.data}")

    async def scenario() -> None:
        application: Application = (
            ApplicationBuilder()
            .token(fake_api.token)
            .base_url(fake_api.base_url)
            .base_file_url(fake_api.base_file_url)
            .defaults(Defaults(parse_mode=ParseMode.HTML))
            .build()
        )
        application.add_handler(CommandHandler("start", start))
        application.add_handler(CallbackQueryHandler(next_page))
        await application.initialize()
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            mark = len(fake_api.calls)
            fake_api.user_sends("/start@ReactionsTestBot")
            reply = await asyncio.to_thread(fake_api.wait_for, "sendMessage", None, 5, mark)
            assert reply.params["parse_mode"] == "HTML"
            sent = fake_api.messages(1001)[-1]
            assert sent["text"] == "Welcome"
            fake_api.user_presses_button(chat_id=1001, message_id=sent["message_id"], data="page:2")
            await asyncio.to_thread(fake_api.wait_for, "editMessageText", None, 5, mark)
        finally:
            await application.updater.stop()
            await application.stop()
            await application.shutdown()

    asyncio.run(scenario())
    assert fake_api.calls_to("answerCallbackQuery")
    assert fake_api.messages(1001)[-1]["text"] == "page page:2"
    # PTB confirmed every update it fetched before stopping.
    assert fake_api.calls_to("getUpdates")[-1].params["offset"] == 3


def test_a_user_who_blocked_the_bot_gets_403_forbidden(fake_api: FakeBotApi) -> None:
    from telegram.error import Forbidden

    fake_api.add_user(501)
    fake_api.add_user(502)
    fake_api.block_bot(501)
    fake_api.block_bot(502, "Forbidden: user is deactivated")

    async def scenario() -> None:
        async with make_bot(fake_api) as bot:
            with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
                await bot.send_message(501, "hello")
            with pytest.raises(Forbidden, match=r"(?i)user is deactivated"):
                await bot.send_message(502, "hello")
            with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                await bot.send_message(503, "never started the bot")
            fake_api.add_user(503)
            assert (await bot.send_message(503, "now it may")).text == "now it may"

    asyncio.run(scenario())
    failed = [c for c in fake_api.calls if c.method == "sendMessage" and not c.ok]
    assert [c.error for c in failed][:2] == [
        "Forbidden: bot was blocked by the user",
        "Forbidden: user is deactivated",
    ]
