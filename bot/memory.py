"""What the bot remembers between messages: recent answers by message, channel and thread."""

from __future__ import annotations

from collections import OrderedDict

from index.types import Answer

DEFAULT_CAPACITY = 1000


class AnswerMemory:
    """A bounded in-memory record of recent answers, so Sources and follow-ups can find them.

    Answers are keyed by the id of the message that shows them; the oldest are forgotten
    first. Nothing survives a restart: a Sources button on an older answer says so.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._by_message: OrderedDict[int, Answer] = OrderedDict()
        self._latest: OrderedDict[int, int] = OrderedDict()  # channel id -> message id
        self._threads: OrderedDict[int, str] = OrderedDict()  # thread id -> first question

    def remember(self, message_id: int, channel_id: int, answer: Answer) -> None:
        """Keep an answer shown in `message_id`, now the channel's latest."""
        self._by_message[message_id] = answer
        self._by_message.move_to_end(message_id)
        self._latest[channel_id] = message_id
        self._latest.move_to_end(channel_id)
        for table in (self._by_message, self._latest):
            while len(table) > self.capacity:
                table.popitem(last=False)

    def answer(self, message_id: int) -> Answer | None:
        return self._by_message.get(message_id)

    def latest(self, channel_id: int) -> Answer | None:
        """The last answer shown in a channel, if still remembered."""
        message_id = self._latest.get(channel_id)
        return None if message_id is None else self._by_message.get(message_id)

    def thread_question(self, thread_id: int) -> str | None:
        """The question a thread is about: its first question, or its starter answer's."""
        if thread_id in self._threads:
            return self._threads[thread_id]
        # A thread started from a message has that message's id.
        starter = self._by_message.get(thread_id)
        return starter.question if starter is not None else None

    def note_thread(self, thread_id: int, question: str) -> None:
        """Record a thread's topic the first time the bot answers in it."""
        if self.thread_question(thread_id) is None:
            self._threads[thread_id] = question
            while len(self._threads) > self.capacity:
                self._threads.popitem(last=False)
