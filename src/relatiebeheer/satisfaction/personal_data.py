"""Personal-data registry: surveys, invitations, answers and follow-ups."""

from relatiebeheer.privacy.registry import not_personal, personal

not_personal("satisfaction.SatisfactionSettings", "auto_send_kinds", why="contact-moment kinds")
not_personal(
    "satisfaction.Survey",
    "key",
    "name",
    "title_nl",
    "title_en",
    "intro_nl",
    "intro_en",
    why="the survey as written by the firm",
)
not_personal(
    "satisfaction.Question",
    "kind",
    "text_nl",
    "text_en",
    "tags_text",
    "choices",
    why="the questions as written by the firm",
)
not_personal("satisfaction.Invitation", "source", "language", why="a channel and a language")
personal(
    "satisfaction.Invitation",
    "draft",
    why="the answers the person saved but did not send yet",
    contact="contact",
)
not_personal("satisfaction.AnswerToken", "kind", "token_hash", why="a hash of a link")
not_personal("satisfaction.Response", "language", why="a language code")
not_personal(
    "satisfaction.Answer",
    "kind",
    "tags_text",
    "value_choice",
    why="the question's kind, measures and the key of the option chosen",
)
personal(
    "satisfaction.Answer",
    "value_text",
    why="the person's own words",
    contact="response__contact",
    account="account",
)
not_personal("satisfaction.AnswerCount", "value_key", why="an option's key, counted")
personal(
    "satisfaction.FollowUp",
    "reason",
    "outcome_notes",
    why="why a follow-up was opened and what was done: may name the person",
    contact="response__contact",
    account="account",
)
not_personal("satisfaction.FollowUp", "outcome", why="a choice of a fixed list")
not_personal("satisfaction.RateCounter", "key", why="a counter's key (a hashed address)")
not_personal("satisfaction.AutoSendRecord", "skipped", why="a reason code")
