"""End to end in Russian and Ukrainian: the real Application and engine against the local Bot
API server — command menus per language, replies and buttons in the user's language, the
/language choice (stored, forgotten), a group /ask and an inline query."""

from __future__ import annotations

import json
from typing import Any

from tests.fakebotapi import FakeBotApi
from tests.test_bot_e2e import GROUP, USER, run_bot, shown_text, to_chat, wait

PRIVATE_SCOPE = json.dumps({"type": "all_private_chats"}, sort_keys=True)
GROUP_SCOPE = json.dumps({"type": "all_group_chats"}, sort_keys=True)


def buttons(call: Any) -> list[tuple[str, str]]:
    markup = call.params.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [
        (b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row
    ]


def test_a_russian_user_gets_russian_menus_replies_and_buttons(
    api: FakeBotApi, engine: Any
) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("/country Грузия", language_code="ru")
        call = await wait(api, "sendMessage", to_chat(USER))
        text = shown_text(api, call)
        assert text.splitlines()[0].endswith("Грузия — 3 высказывания")
        assert "Цитаты приводятся дословно, на английском." in text
        assert ("🔔 Следить: Грузия", "fa|c:Georgia") in buttons(call)

        api.user_sends("Что сказал Песков?", language_code="ru-RU")
        call = await wait(api, "sendMessage", to_chat(USER), after=len(api.calls))
        text = shown_text(api, call)
        assert "Dmitry Peskov" in text and "высказыва" in text.splitlines()[0]
        assert "I still know nothing about Putin's intention to congratulate Trump" in text

    run_bot(api, engine, scenario)
    # The menus were published for Russian and Ukrainian apps beside the English default.
    ru = {c["command"]: c["description"] for c in api.commands[(PRIVATE_SCOPE, "ru")]}
    uk = {c["command"]: c["description"] for c in api.commands[(PRIVATE_SCOPE, "uk")]}
    en = {c["command"]: c["description"] for c in api.commands[(PRIVATE_SCOPE, "")]}
    assert ru["country"] == "Реакции страны" and uk["country"] == "Реакції країни"
    assert en["country"] == "A country's reactions"
    assert ru["language"] == "Язык: English, Русский, Українська"
    group_ru = {c["command"]: c["description"] for c in api.commands[(GROUP_SCOPE, "ru")]}
    assert group_ru["ask"] == "Задать вопрос"
    calls = api.calls_to("setMyCommands")
    assert {c.params.get("language_code") for c in calls} == {None, "ru", "uk"}
    assert api.descriptions["ru"].startswith("Я цитирую, кто что сказал")


def test_an_editors_menu_in_each_language(api: FakeBotApi, engine: Any) -> None:
    async def scenario(api: FakeBotApi) -> None:
        await wait(api, "setMyCommands", lambda c: "chat_id" in str(c.params.get("scope")))

    api.add_user(4242)
    run_bot(api, engine, scenario, admin_user_ids=frozenset({4242}))
    scope = json.dumps({"type": "chat", "chat_id": 4242}, sort_keys=True)
    uk = {c["command"]: c["description"] for c in api.commands[(scope, "uk")]}
    assert uk["reload"] == "Перебудувати архів із теки джерел"


def test_language_is_chosen_with_buttons_stored_and_forgotten(api: FakeBotApi, engine: Any) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("/language", language_code="ru")
        menu = await wait(api, "sendMessage", to_chat(USER))
        assert "Язык бота: Русский (как в вашем приложении Telegram)." in shown_text(api, menu)
        assert buttons(menu) == [
            ("English", "lg|en"),
            ("Русский", "lg|ru"),
            ("Українська", "lg|uk"),
        ]
        api.user_presses_button(chat_id=USER, message_id=menu.result["message_id"], data="lg|uk")
        edit = await wait(api, "editMessageText", to_chat(USER))
        assert "Готово: мова бота — <b>Українська</b>." in edit.params["text"]

        # The app still says Russian; the stored choice wins.
        api.user_sends("/countries", language_code="ru")
        call = await wait(api, "sendMessage", to_chat(USER), after=len(api.calls))
        assert "Грузія — 3 висловлювання" in shown_text(api, call)

        api.user_sends("/privacy", language_code="ru")
        call = await wait(api, "sendMessage", to_chat(USER), after=len(api.calls))
        assert "Збережена мова: Українська." in shown_text(api, call)

        api.user_sends("/forget", language_code="ru")
        call = await wait(api, "sendMessage", to_chat(USER), after=len(api.calls))
        assert "Настройка языка тоже удалена" in shown_text(api, call)

        api.user_sends("/countries", language_code="ru")
        call = await wait(api, "sendMessage", to_chat(USER), after=len(api.calls))
        assert "Грузия — 3 высказывания" in shown_text(api, call)

    run_bot(api, engine, scenario)


def test_a_ukrainian_question_in_a_group_is_answered_in_ukrainian(
    api: FakeBotApi, engine: Any
) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.user_sends(
            "/ask Що сказав Пєсков?",
            user_id=2002,
            chat_id=GROUP,
            chat_type="supergroup",
            language_code="uk",
        )
        call = await wait(api, "sendMessage", to_chat(GROUP))
        text = shown_text(api, call)
        assert "Dmitry Peskov" in text
        assert "висловлювання" in text.splitlines()[0]
        assert "Цитати наведено дослівно, англійською." in text
        # An English speaker in the same group gets English.
        api.user_sends(
            "/ask Georgia", user_id=2003, chat_id=GROUP, chat_type="supergroup", language_code="en"
        )
        call = await wait(api, "sendMessage", to_chat(GROUP), after=len(api.calls))
        assert shown_text(api, call).splitlines()[0].endswith("Georgia — 3 statements")

    run_bot(api, engine, scenario)


def test_an_inline_query_in_cyrillic_is_answered_in_the_users_language(
    api: FakeBotApi, engine: Any
) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.user_sends_inline_query("Песков", language_code="uk")
        call = await wait(api, "answerInlineQuery")
        results = call.params["results"]
        if isinstance(results, str):
            results = json.loads(results)
        assert results
        assert all(r["title"].endswith("— Росія") for r in results)
        message = results[0]["input_message_content"]["message_text"]
        assert "🇷🇺 Росія" in message
        assert call.params["is_personal"] is True  # Telegram must not show it to a Russian user

    run_bot(api, engine, scenario)


def test_start_and_the_empty_inline_query_give_examples_in_the_users_script(
    api: FakeBotApi, engine: Any
) -> None:
    async def scenario(api: FakeBotApi) -> None:
        api.user_sends("/start", language_code="ru")
        call = await wait(api, "sendMessage", to_chat(USER))
        assert "Что говорит Песков?" in shown_text(api, call)
        assert ("Песков", "w|Песков") in buttons(call)
        n = len(api.calls)
        api.user_presses_button(chat_id=USER, message_id=call.result["message_id"], data="w|Песков")
        answer = await wait(api, "sendMessage", to_chat(USER), after=n)
        assert shown_text(api, answer).splitlines()[0].startswith("Dmitry Peskov — ")

        n = len(api.calls)
        api.user_sends_inline_query("", language_code="uk")
        sampler = await wait(api, "answerInlineQuery", after=n)
        button = sampler.params["button"]
        if isinstance(button, str):
            button = json.loads(button)
        assert button == {
            "text": "Напишіть ім’я, наприклад Песков",
            "start_parameter": "who-Peskov",
        }

    run_bot(api, engine, scenario)
